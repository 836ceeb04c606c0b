/**
 * The requests table: one item per review request. Every state change is a conditional write, so the
 * table row is the single source of truth for "who decided first" and "which round is current".
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Decision } from '../schemas/decision.ts';
import { REQUESTS } from '../tables.ts';
import type { StoredRequest } from './model.ts';

export function isConditionFailure(err: unknown): boolean {
  return err instanceof ConditionalCheckFailedException || (err as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

/** Run a conditional write; false when its condition did not hold. */
async function conditional<T>(write: () => Promise<T>): Promise<T | false> {
  try {
    return await write();
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

export interface NewRound {
  expectedRound: number;
  tier: number;
  expiresAt: string;
  history?: NonNullable<StoredRequest['history']>[number];
  /** A hold sets it; any other new round clears it. */
  heldUntil?: string;
  holdUsed?: boolean;
}

export class RequestStore {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /** Strongly consistent: callers decide on what they read. */
  async get(requestId: string): Promise<StoredRequest | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [REQUESTS.partitionKey]: requestId }, ConsistentRead: true }));
    return out.Item as StoredRequest | undefined;
  }

  /** Insert a new row; false when one with this requestId already exists. */
  async create(row: StoredRequest): Promise<boolean> {
    const put = new PutCommand({ TableName: this.tableName, Item: row, ConditionExpression: 'attribute_not_exists(requestId)' });
    return (await conditional(() => this.doc.send(put))) !== false;
  }

  /** A Step Functions retry of the same execution brings a new task token for a still-pending request. */
  async refreshToken(requestId: string, executionArn: string, taskToken: string): Promise<StoredRequest | undefined> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET taskToken = :token',
      ConditionExpression: '#status = :pending AND executionArn = :arn',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':token': taskToken, ':pending': 'PENDING', ':arn': executionArn },
      ReturnValues: 'ALL_NEW',
    });
    const out = await conditional(() => this.doc.send(update));
    return out === false ? undefined : (out.Attributes as StoredRequest);
  }

  /**
   * PENDING → DECIDED/EXPIRED for the expected round, claiming the resume in the same write. Only one
   * caller can win; the rest get `undefined` and read the row to see who did.
   */
  async decide(
    requestId: string,
    args: { expectedRound: number; status: 'DECIDED' | 'EXPIRED'; decision: Decision; at: string },
  ): Promise<StoredRequest | undefined> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET #status = :status, decision = :decision, resumeClaimedAt = :at REMOVE pendingGroup, heldUntil',
      ConditionExpression: '#status = :pending AND #round = :round',
      ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
      ExpressionAttributeValues: { ':status': args.status, ':decision': args.decision, ':at': args.at, ':pending': 'PENDING', ':round': args.expectedRound },
      ReturnValues: 'ALL_NEW',
    });
    const out = await conditional(() => this.doc.send(update));
    return out === false ? undefined : (out.Attributes as StoredRequest);
  }

  /** Claim the right to send SendTaskSuccess with the row's token; false if resumed or someone fresher holds it. */
  async claimResume(requestId: string, taskToken: string, at: string, staleBefore: string): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET resumeClaimedAt = :at',
      ConditionExpression:
        '#status <> :pending AND taskToken = :token AND attribute_not_exists(resumedAt) AND (attribute_not_exists(resumeClaimedAt) OR resumeClaimedAt < :stale)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':at': at, ':pending': 'PENDING', ':token': taskToken, ':stale': staleBefore },
    });
    return (await conditional(() => this.doc.send(update))) !== false;
  }

  /** The execution has its Decision (or had already ended): forget the token. */
  async markResumed(requestId: string, at: string, taskToken?: string): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET resumedAt = :at REMOVE taskToken, resumeClaimedAt',
      ConditionExpression: taskToken ? 'taskToken = :token' : 'attribute_not_exists(resumedAt)',
      ExpressionAttributeValues: taskToken ? { ':at': at, ':token': taskToken } : { ':at': at },
    });
    return (await conditional(() => this.doc.send(update))) !== false;
  }

  /** Give up a claim after a transient failure so the next retry can resume at once. */
  async releaseResumeClaim(requestId: string, taskToken: string): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'REMOVE resumeClaimedAt',
      ConditionExpression: 'taskToken = :token AND attribute_not_exists(resumedAt)',
      ExpressionAttributeValues: { ':token': taskToken },
    });
    await conditional(() => this.doc.send(update));
  }

  /** Start the next time box (escalation, hold, re-notify) if the request is still in the expected round. */
  async startRound(requestId: string, next: NewRound): Promise<StoredRequest | undefined> {
    const set = ['tier = :tier', '#round = :next', 'expiresAt = :expiresAt'];
    const remove: string[] = [];
    const values: Record<string, unknown> = {
      ':tier': next.tier,
      ':next': next.expectedRound + 1,
      ':expected': next.expectedRound,
      ':expiresAt': next.expiresAt,
      ':pending': 'PENDING',
    };
    if (next.history) {
      set.push('history = list_append(if_not_exists(history, :none), :history)');
      values[':none'] = [];
      values[':history'] = [next.history];
    }
    if (next.heldUntil !== undefined) {
      set.push('heldUntil = :heldUntil');
      values[':heldUntil'] = next.heldUntil;
    } else {
      remove.push('heldUntil');
    }
    if (next.holdUsed !== undefined) {
      set.push('holdUsed = :holdUsed');
      values[':holdUsed'] = next.holdUsed;
    }
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ConditionExpression: '#status = :pending AND #round = :expected',
      ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    });
    const out = await conditional(() => this.doc.send(update));
    return out === false ? undefined : (out.Attributes as StoredRequest);
  }

  /** Record which tier and round were emailed; ignored if the request has moved on meanwhile. */
  async markNotified(requestId: string, tier: number, round: number): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET notifiedTier = :tier, notifiedRound = :round',
      ConditionExpression: '#round = :round',
      ExpressionAttributeNames: { '#round': 'round' },
      ExpressionAttributeValues: { ':tier': tier, ':round': round },
    });
    await conditional(() => this.doc.send(update));
  }

  /** The live queue of a reviewer group, oldest first (sparse index: only PENDING rows carry pendingGroup). */
  async pendingByGroup(group: string, options: { limit?: number; createdBefore?: string } = {}): Promise<StoredRequest[]> {
    const { name, partitionKey, sortKey } = REQUESTS.pendingIndex;
    const limit = options.limit ?? Infinity;
    const rows: StoredRequest[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: name,
          KeyConditionExpression: options.createdBefore ? '#pk = :group AND #sk < :before' : '#pk = :group',
          ExpressionAttributeNames: options.createdBefore ? { '#pk': partitionKey, '#sk': sortKey } : { '#pk': partitionKey },
          ExpressionAttributeValues: options.createdBefore ? { ':group': group, ':before': options.createdBefore } : { ':group': group },
          ScanIndexForward: true,
          ExclusiveStartKey: start,
          ...(Number.isFinite(limit) ? { Limit: Math.min(1000, limit - rows.length) } : {}),
        }),
      );
      rows.push(...((out.Items ?? []) as StoredRequest[]));
      start = out.LastEvaluatedKey;
    } while (start && rows.length < limit);
    return rows;
  }
}
