/**
 * Decisions of known outcomes for the analytics tests and the `hitl sql` benchmark: request rows and their
 * log events (created, notified, the final event, resumed, and now and then a `replayed` one that analytics
 * must ignore), from a seeded generator, so every run writes the same data.
 */
import { BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isOutOfHours, decisionExtrasDetails } from '#shared/review/decision-record.ts';
import type { DeploymentConfig } from '#shared/schemas/config.ts';
import type { Decision, PolicyName } from '#shared/schemas/decision.ts';
import { ReviewRequest, type ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { decisionIndexKeys } from '#shared/store/decision-log.ts';
import type { LogEvent, StoredRequest } from '#shared/store/model.ts';

/** mulberry32: a small, seeded generator. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedOptions {
  count: number;
  /** First UTC day decisions may fall on, YYYY-MM-DD. */
  firstDay: string;
  days: number;
  seed?: number;
  group?: string;
}

export interface Seeded {
  rows: StoredRequest[];
  events: LogEvent[];
  /** The final events, for expectations. */
  finals: (LogEvent & { decision: Decision })[];
}

const REVIEWERS = ['lead@example.com', 'lead2@example.com', 'manager@example.com'];
const DENIAL_REASONS = ['Wrong amount.', 'wrong amount', 'not eligible', 'Duplicate request!', 'needs a manager', 'customer already refunded'];

function requestFor(kind: number, i: number, pick: <T>(xs: readonly T[]) => T, group: string): ReviewRequestInput {
  const common = { reason: `case ${i}: the customer asked`, risk: { class: 'financial', reversible: false }, reviewerGroup: group, ttlSeconds: 1800 };
  switch (kind) {
    case 0:
    case 1:
    case 2:
      return { ...common, kind: 'approval', agent: pick(['support-agent', 'billing-bot']), action: { name: 'refund', args: { order_id: `O-${i}`, amount_usd: 50 + (i % 8) * 50 } }, fallback: pick(['deny', 'deny', 'escalate', 'hold']) };
    case 3:
      return { ...common, kind: 'approval', agent: 'ops-bot', action: { name: 'crm.update_contact', args: { id: `C-${i}` } }, risk: { class: 'internal', reversible: true }, fallback: 'approve' };
    case 4:
      return { ...common, kind: 'verification', agent: 'support-agent', draft: { channel: 'email', title: `Re: ${i}`, body: `Dear customer ${i}, …` }, fallback: 'escalate' };
    case 5:
      return {
        ...common,
        kind: 'disambiguation',
        agent: 'support-agent',
        confidence: 0.4,
        question: `Which order is case ${i} about?`,
        options: [
          { id: 'o1', label: `Order ${i}-1` },
          { id: 'o2', label: `Order ${i}-2` },
        ],
      };
    case 6:
      return { ...common, kind: 'escalation', agent: 'billing-bot', task: { summary: `Case ${i}: chargeback dispute` }, fallback: 'hold' };
    default:
      return { ...common, kind: 'correction', agent: 'support-agent', output: { id: `msg-${i}`, content: `Refunds take 30 days (${i}).` } };
  }
}

/** Build `count` decided requests and their log events; nothing is written. */
export function seedDecisions(config: DeploymentConfig, options: SeedOptions): Seeded {
  const random = seededRandom(options.seed ?? 7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const group = options.group ?? Object.keys(config.reviewerGroups)[0]!;
  const start = Date.parse(`${options.firstDay}T00:00:00.000Z`);
  const span = options.days * 86_400_000;
  const rows: StoredRequest[] = [];
  const events: LogEvent[] = [];
  const finals: (LogEvent & { decision: Decision })[] = [];

  for (let i = 0; i < options.count; i++) {
    const request = ReviewRequest.parse(requestFor(Math.floor(random() * 8), i, pick, group));
    const requestId = `seed-${options.seed ?? 7}-${String(i).padStart(6, '0')}`;
    const actionType = request.kind === 'approval' ? `approval#${request.action.name}` : request.kind === 'verification' ? `verification#${request.draft.channel}` : request.kind;
    const decidedMs = start + Math.floor(random() * span);
    const roll = random();
    let outcome: string;
    let policy: PolicyName | undefined;
    let decidedBy: string;
    let event: string = 'decided';
    let latencyMs: number;
    const fields: Partial<Decision> = {};
    const reviewer = pick(REVIEWERS);
    const tier = reviewer === 'manager@example.com' ? 2 : 1;

    if (roll < 0.08 && request.kind === 'approval') {
      outcome = 'approved';
      policy = 'auto-approve';
      decidedBy = 'policy:auto-approve';
      latencyMs = 0;
    } else if (roll < 0.12 && request.kind === 'disambiguation') {
      outcome = 'answered';
      policy = 'auto-answer';
      decidedBy = 'policy:auto-answer';
      latencyMs = 0;
      fields.chosenOption = request.options[0];
    } else if (roll < 0.2) {
      event = 'expired';
      latencyMs = 1_800_000 + Math.floor(random() * 3) * 60_000;
      if (request.fallback === 'approve') {
        outcome = 'approved';
        policy = 'fallback-approve';
      } else {
        outcome = 'expired';
        policy = random() < 0.1 ? 'backstop' : 'fallback-deny';
        fields.reason = 'No decision within 30 min; fallback policy deny';
      }
      decidedBy = `policy:${policy}`;
    } else if (roll < 0.24) {
      event = 'cancelled';
      outcome = 'cancelled';
      decidedBy = `agent:${request.agent}`;
      latencyMs = 60_000 + Math.floor(random() * 600_000);
      fields.reason = 'the customer withdrew';
    } else {
      decidedBy = reviewer;
      latencyMs = 20_000 + Math.floor(random() * (reviewer === 'manager@example.com' ? 5_400_000 : 1_200_000));
      const verdict = random();
      switch (request.kind) {
        case 'approval':
        case 'verification':
          if (verdict < 0.6) outcome = 'approved';
          else if (verdict < 0.75) {
            outcome = 'modified';
            if (request.kind === 'approval') fields.approvedArgs = { ...request.action.args, ...('amount_usd' in request.action.args ? { amount_usd: 25 } : { id: 'C-0' }) };
            else fields.editedDraft = { ...request.draft, body: `${request.draft.body} (edited)` };
          } else {
            outcome = 'denied';
            fields.reason = pick(DENIAL_REASONS);
          }
          if (request.kind === 'approval') fields.proposedArgs = request.action.args;
          break;
        case 'disambiguation':
          if (verdict < 0.85) {
            outcome = 'answered';
            fields.chosenOption = verdict < 0.55 ? request.options[0] : request.options[1];
          } else {
            outcome = 'denied';
            fields.reason = pick(DENIAL_REASONS);
          }
          break;
        case 'escalation':
          outcome = verdict < 0.8 ? 'resolved' : 'denied';
          if (outcome === 'resolved') fields.result = 'refunded by hand';
          else fields.reason = pick(DENIAL_REASONS);
          break;
        default:
          event = verdict < 0.8 ? 'corrected' : 'decided';
          outcome = verdict < 0.8 ? 'corrected' : 'denied';
          if (outcome === 'corrected') {
            fields.correctedOutput = 'Refunds take 5 days.';
            fields.correctionCategory = 'policy';
          } else fields.reason = 'the output was right';
      }
    }
    const createdMs = decidedMs - latencyMs;
    const requestedAt = new Date(createdMs).toISOString();
    const decidedAt = new Date(decidedMs).toISOString();
    const decision = {
      requestId,
      kind: request.kind,
      outcome,
      decidedBy,
      ...(policy ? { policy: { name: policy, why: `policy ${policy}` } } : {}),
      tier,
      requestedAt,
      decidedAt,
      latencyMs,
      ...fields,
    } as Decision;
    const status = event === 'expired' ? 'EXPIRED' : 'DECIDED';
    const row: StoredRequest = {
      requestId,
      status: status as StoredRequest['status'],
      kind: request.kind,
      agent: request.agent,
      actionType,
      reviewerGroup: group,
      fallback: request.fallback,
      request,
      tier,
      round: tier,
      createdAt: requestedAt,
      expiresAt: new Date(createdMs + 1_800_000).toISOString(),
      ttlSeconds: request.ttlSeconds ?? 1800,
      executionArn: `arn:aws:states:us-east-1:000000000000:execution:Hitl-review:${requestId}`,
      decision,
      resumedAt: decidedAt,
    };
    rows.push(row);

    const person = !policy && outcome !== 'cancelled';
    // Most decisions by people record how long the card was open; lead2 approves within seconds.
    const card = person && random() < 0.8 ? (reviewer === 'lead2@example.com' && random() < 0.8 ? 800 + Math.floor(random() * 2000) : 4000 + Math.floor(random() * 120_000)) : undefined;
    const extras = {
      ...(person ? { channel: 'email' } : {}),
      ...(card !== undefined && card <= latencyMs ? { timeOnCardMs: card } : {}),
      // Half the events record out-of-hours themselves, as the decision path will; the rest leave it to the config.
      ...(random() < 0.5 ? { outOfHours: isOutOfHours(config.reviewerGroups[group], requestedAt) } : {}),
    };
    const base = { requestId, actor: decidedBy, tier };
    events.push({ ...base, eventKey: `${requestedAt}#000001aaaaaa`, event: 'created', at: requestedAt, actor: `agent:${request.agent}`, tier: 1, details: { kind: request.kind, actionType, reviewerGroup: group } });
    if (policy !== 'auto-approve' && policy !== 'auto-answer') {
      events.push({ ...base, eventKey: `${requestedAt}#000002aaaaaa`, event: 'notified', at: requestedAt, actor: 'system', tier: 1, details: { round: 1 } });
    }
    const final = {
      ...base,
      eventKey: `${decidedAt}#final`,
      event: event as LogEvent['event'],
      at: decidedAt,
      details: { round: tier, ...decisionExtrasDetails(extras) },
      decision,
      ...decisionIndexKeys(row, decidedAt),
    };
    events.push(final);
    finals.push(final);
    events.push({ ...base, eventKey: `${decidedAt}#000003aaaaaa`, event: 'resumed', at: decidedAt, actor: 'system', details: { result: 'resumed' } });
    // An idempotent retry served the stored Decision: logged, indexed like a decision, never counted.
    if (i % 25 === 0) events.push({ ...base, eventKey: `${decidedAt}#000004aaaaaa`, event: 'replayed' as LogEvent['event'], at: decidedAt, actor: 'system', decision, ...decisionIndexKeys(row, decidedAt) });
  }
  return { rows, events, finals };
}

/** Write with BatchWriteItem, 25 items a call, unprocessed items retried. */
export async function writeItems(doc: DynamoDBDocumentClient, tableName: string, items: readonly object[]): Promise<void> {
  for (let i = 0; i < items.length; i += 25) {
    let requests: { PutRequest: { Item: Record<string, unknown> } }[] | undefined = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item: Item as Record<string, unknown> } }));
    while (requests && requests.length > 0) {
      const out = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = out.UnprocessedItems?.[tableName] as typeof requests;
    }
  }
}

/** Bulk-write the seeded rows and events (the benchmark's hundred thousand events). */
export async function writeSeededInBulk(doc: DynamoDBDocumentClient, tables: { requests: string; decisions: string }, seeded: Seeded): Promise<void> {
  await writeItems(doc, tables.requests, seeded.rows);
  await writeItems(doc, tables.decisions, seeded.events);
}

/** Write the seeded rows and events one conditional put at a time (never over an existing item), as the handlers write them. */
export async function writeSeeded(doc: DynamoDBDocumentClient, tables: { requests: string; decisions: string }, seeded: Seeded, concurrency = 8): Promise<void> {
  const byRequest = new Map<string, LogEvent[]>();
  for (const e of seeded.events) byRequest.set(e.requestId, [...(byRequest.get(e.requestId) ?? []), e]);
  const queue = [...seeded.rows];
  const put = (TableName: string, Item: object, key: string) =>
    doc.send(new PutCommand({ TableName, Item: Item as Record<string, unknown>, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': key } }));
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let row = queue.shift(); row; row = queue.shift()) {
        await put(tables.requests, row, 'requestId');
        for (const event of byRequest.get(row.requestId) ?? []) await put(tables.decisions, event, 'eventKey');
      }
    }),
  );
}

