/**
 * Trust rules, kept in the requests table under their own key prefix (`trust-rules#<group>`). Request ids
 * are `r` + hex, so the prefix cannot collide; the items carry no `pendingGroup`, so they never enter the
 * queue index; and the functions that read and write them (route, respond) already hold grants on the table.
 *
 * One item per group holds all of its rules: the route step reads them with one consistent GetItem. Every
 * change replaces the item only if its `version` is the one read, in one transaction with the change's
 * event in the decision log (`trust-rule-created`, `trust-rule-revoked`, under `trust-rule#<id>`).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { HitlError } from '../errors.ts';
import type { TrustRule } from '../schemas/trust-rule.ts';
import type { DecisionLog } from './decision-log.ts';
import type { RequestStore } from './requests.ts';
import { transact } from './transact.ts';

const RULES_PREFIX = 'trust-rules#';
/** Rules that ended (expired or revoked) stay visible this long, then the next write drops them. */
const KEEP_ENDED_MS = 86_400_000;
const WRITE_ATTEMPTS = 5;

interface RuleSetItem {
  requestId: string;
  rules: Record<string, TrustRule>;
  version: number;
}

export class TrustRuleStore {
  constructor(
    readonly requests: RequestStore,
    readonly log: DecisionLog,
  ) {}

  private async read(group: string): Promise<RuleSetItem | undefined> {
    const out = await this.requests.doc.send(
      new GetCommand({ TableName: this.requests.tableName, Key: { requestId: `${RULES_PREFIX}${group}` }, ConsistentRead: true }),
    );
    return out.Item as RuleSetItem | undefined;
  }

  /** Every rule of the group, active or recently ended. */
  async forGroup(group: string): Promise<TrustRule[]> {
    return Object.values((await this.read(group))?.rules ?? {});
  }

  /**
   * Apply `change` to the group's rules and write them with `event`, retrying when another change landed
   * in between. `change` returns the rules to write, or a value to return without writing.
   */
  private async change<T>(
    group: string,
    now: Date,
    change: (rules: Record<string, TrustRule>) => { rules: Record<string, TrustRule>; result: T; event: { at: string; actor: string; event: 'trust-rule-created' | 'trust-rule-revoked'; ruleId: string; details: Record<string, unknown>; purgeAt?: number } } | { result: T },
  ): Promise<T> {
    for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
      const current = await this.read(group);
      const planned = change({ ...(current?.rules ?? {}) });
      if (!('rules' in planned)) return planned.result;
      const kept = Object.fromEntries(
        Object.entries(planned.rules).filter(([, r]) => Date.parse(r.revokedAt ?? r.expiresAt) > now.getTime() - KEEP_ENDED_MS),
      );
      const version = current?.version ?? 0;
      const item: RuleSetItem = { requestId: `${RULES_PREFIX}${group}`, rules: kept, version: version + 1 };
      const { ruleId, ...event } = planned.event;
      const failed = await transact(this.requests.doc, [
        {
          // An update, not a put: the functions hold UpdateItem on this table, as for every request change.
          Update: {
            TableName: this.requests.tableName,
            Key: { requestId: item.requestId },
            UpdateExpression: 'SET #rules = :rules, #version = :next',
            ConditionExpression: current ? '#version = :seen' : 'attribute_not_exists(requestId)',
            ExpressionAttributeNames: { '#rules': 'rules', '#version': 'version' },
            ExpressionAttributeValues: { ':rules': item.rules, ':next': item.version, ...(current ? { ':seen': version } : {}) },
          },
        },
        this.log.eventItem({ requestId: `trust-rule#${ruleId}`, tier: 1, ...event }),
      ]);
      if (failed === undefined) return planned.result;
    }
    throw new HitlError(`The trust rules of group ${group} kept changing while one was written; try again`);
  }

  /** Add a rule (its id is new) with its `trust-rule-created` event. */
  async create(rule: TrustRule, now: Date, purge: { purgeAt?: number }): Promise<TrustRule> {
    return this.change(rule.group, now, (rules) => ({
      rules: { ...rules, [rule.id]: rule },
      result: rule,
      event: {
        ruleId: rule.id,
        event: 'trust-rule-created',
        at: rule.createdAt,
        actor: rule.createdBy,
        details: { group: rule.group, agent: rule.agent, action: rule.action, bounds: rule.bounds, expiresAt: rule.expiresAt, ...(rule.note ? { note: rule.note } : {}) },
        ...purge,
      },
    }));
  }

  /** Revoke an active rule with its `trust-rule-revoked` event; undefined when it is unknown or already ended. */
  async revoke(group: string, id: string, by: string, now: Date, purge: { purgeAt?: number }): Promise<TrustRule | undefined> {
    const at = now.toISOString();
    return this.change<TrustRule | undefined>(group, now, (rules) => {
      const rule = Object.hasOwn(rules, id) ? rules[id] : undefined;
      if (!rule || rule.revokedAt !== undefined || Date.parse(rule.expiresAt) <= now.getTime()) return { result: undefined };
      const revoked: TrustRule = { ...rule, revokedAt: at, revokedBy: by };
      return {
        rules: { ...rules, [id]: revoked },
        result: revoked,
        event: { ruleId: id, event: 'trust-rule-revoked', at, actor: by, details: { group, createdBy: rule.createdBy }, ...purge },
      };
    });
  }
}
