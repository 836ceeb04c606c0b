/**
 * The requests table: one item per review request. Every state change is a conditional write, so the
 * table row is the single source of truth for "who decided first" and "which round is current".
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, paginateQuery, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Decision, Vote } from '../schemas/decision.ts';
import { REQUESTS } from '../tables.ts';
import { argOrderOf, withArgOrder } from './arg-order.ts';
import type { RequestStatus, StoredRequest, WebhookRecord } from './model.ts';
import { DEFAULT_PENDING_SHARDS, pendingKey, pendingKeys } from './pending-shards.ts';
import { queryItems } from './query.ts';
import type { TxItem } from './transact.ts';

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

export interface FinishArgs {
  status: Exclude<RequestStatus, 'PENDING'>;
  decision: Decision;
  at: string;
  /** The round the decider saw; a decision for an earlier round (before an escalation) loses. */
  expectedRound?: number;
  /** Only if the request still belongs to this execution (a cancel). */
  executionArn?: string;
}

/** A vote's key in the row's `votes` map: one vote per person and round. */
export function voteKey(round: number, approver: string): string {
  return `${round}:${approver.toLowerCase()}`;
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
    /** Shards of each group's `pending-by-age` key (the config's `pendingShards`). */
    readonly pendingShards: number = DEFAULT_PENDING_SHARDS,
  ) {}

  /** Strongly consistent: callers decide on what they read. */
  async get(requestId: string): Promise<StoredRequest | undefined> {
    const out = await this.doc.send(new GetCommand({ TableName: this.tableName, Key: { [REQUESTS.partitionKey]: requestId }, ConsistentRead: true }));
    return withArgOrder(out.Item as StoredRequest | undefined);
  }

  /**
   * Insert a new row, in a transaction with its `created` event; fails when the requestId exists, unless
   * that request was closed as undeliverable (nobody was asked), which a retry replaces.
   */
  putNewItem(row: StoredRequest): TxItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: { ...(row.pendingGroup === undefined ? row : { ...row, pendingGroup: pendingKey(row.pendingGroup, row.requestId, this.pendingShards) }), ...(argOrderOf(row.request) ? { argOrder: argOrderOf(row.request) } : {}) },
        ConditionExpression: 'attribute_not_exists(requestId) OR #status = :undeliverable',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':undeliverable': 'UNDELIVERABLE' },
      },
    };
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
    return out === false ? undefined : withArgOrder(out.Attributes as StoredRequest);
  }

  /**
   * PENDING → a final status, claiming the resume in the same write; in a transaction with the final log
   * event. Only one caller can win. `pendingGroup` stays until the execution is told (see markResumed).
   */
  finishItem(requestId: string, args: FinishArgs): TxItem {
    const conditions = ['#status = :pending'];
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': args.status, ':decision': args.decision, ':at': args.at, ':pending': 'PENDING' };
    if (args.expectedRound !== undefined) {
      conditions.push('#round = :round');
      names['#round'] = 'round';
      values[':round'] = args.expectedRound;
    }
    if (args.executionArn !== undefined) {
      conditions.push('executionArn = :arn');
      values[':arn'] = args.executionArn;
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId },
        UpdateExpression: 'SET #status = :status, decision = :decision, resumeClaimedAt = :at REMOVE heldUntil, pendingRespondent',
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /**
   * Record a vote if the request is still pending in the round read and nobody else voted since (the vote
   * count read is the condition), in a transaction with its log event. The vote that settles the quorum
   * also ends the request, in the same write, as finishItem does.
   */
  voteItem(row: Pick<StoredRequest, 'requestId' | 'round' | 'votes' | 'voteCount'>, vote: Vote, finish?: Omit<FinishArgs, 'expectedRound' | 'executionArn'>): TxItem {
    const seen = row.voteCount ?? 0;
    const names: Record<string, string> = { '#status': 'status', '#round': 'round' };
    const values: Record<string, unknown> = { ':pending': 'PENDING', ':round': row.round, ':seen': seen, ':next': seen + 1 };
    const set = ['voteCount = :next'];
    const conditions = ['#status = :pending', '#round = :round', seen === 0 ? '(attribute_not_exists(voteCount) OR voteCount = :seen)' : 'voteCount = :seen'];
    const key = voteKey(vote.round, vote.by);
    if (row.votes) {
      names['#key'] = key;
      values[':vote'] = vote;
      set.push('votes.#key = :vote');
      conditions.push('attribute_not_exists(votes.#key)');
    } else {
      values[':votes'] = { [key]: vote };
      set.push('votes = :votes');
      conditions.push('attribute_not_exists(votes)');
    }
    if (finish) {
      Object.assign(values, { ':status': finish.status, ':decision': finish.decision, ':at': finish.at });
      set.push('#status = :status', 'decision = :decision', 'resumeClaimedAt = :at');
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId: row.requestId },
        UpdateExpression: `SET ${set.join(', ')}${finish ? ' REMOVE heldUntil, pendingRespondent' : ''}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /** Record a final request's webhook outcome, once: a second outcome for the same request is refused. */
  webhookItem(requestId: string, record: WebhookRecord): TxItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId },
        UpdateExpression: 'SET webhook = :webhook',
        ConditionExpression: 'attribute_exists(requestId) AND attribute_not_exists(webhook) AND #status IN (:decided, :expired, :cancelled)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':webhook': record, ':decided': 'DECIDED', ':expired': 'EXPIRED', ':cancelled': 'CANCELLED' },
      },
    };
  }

  /** Close a first-round request nobody could be emailed about and nobody else waits on. */
  undeliverableItem(requestId: string, executionArn: string): TxItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId },
        UpdateExpression: 'SET #status = :undeliverable REMOVE taskToken, pendingGroup, heldUntil, pendingRespondent',
        ConditionExpression: '#status = :pending AND #round = :one AND executionArn = :arn AND (attribute_not_exists(waiters) OR size(waiters) = :zero)',
        ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':undeliverable': 'UNDELIVERABLE', ':one': 1, ':arn': executionArn, ':zero': 0 },
      },
    };
  }

  /** Another execution with the same key and content waits for this pending request's Decision. */
  async addWaiter(requestId: string, executionArn: string, taskToken: string): Promise<StoredRequest | undefined> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET waiters.#arn = :token',
      ConditionExpression: '#status = :pending AND attribute_exists(waiters)',
      ExpressionAttributeNames: { '#status': 'status', '#arn': executionArn },
      ExpressionAttributeValues: { ':token': taskToken, ':pending': 'PENDING' },
      ReturnValues: 'ALL_NEW',
    });
    const out = await conditional(() => this.doc.send(update));
    if (out !== false) return withArgOrder(out.Attributes as StoredRequest);
    // A row written before waiters existed has no map to add to.
    const first = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET waiters = :waiters',
      ConditionExpression: '#status = :pending AND attribute_not_exists(waiters)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':waiters': { [executionArn]: taskToken }, ':pending': 'PENDING' },
      ReturnValues: 'ALL_NEW',
    });
    const created = await conditional(() => this.doc.send(first));
    return created === false ? undefined : withArgOrder(created.Attributes as StoredRequest);
  }

  /** A waiting execution ended on its own (stopped, failed): stop resuming it. */
  async removeWaiter(requestId: string, executionArn: string): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'REMOVE waiters.#arn',
      ConditionExpression: 'attribute_exists(waiters.#arn)',
      ExpressionAttributeNames: { '#arn': executionArn },
    });
    return (await conditional(() => this.doc.send(update))) !== false;
  }

  /** SES accepted the review email for `key` (`<round>:<address>`). */
  async recordDelivery(requestId: string, key: string, messageId: string, retry = true): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET deliveries.#key = :id',
      ConditionExpression: 'attribute_exists(deliveries)',
      ExpressionAttributeNames: { '#key': key },
      ExpressionAttributeValues: { ':id': messageId || 'accepted' },
    });
    if ((await conditional(() => this.doc.send(update))) !== false) return;
    const first = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET deliveries = :map',
      ConditionExpression: 'attribute_exists(requestId) AND attribute_not_exists(deliveries)',
      ExpressionAttributeValues: { ':map': { [key]: messageId || 'accepted' } },
    });
    // Lost a race with another first entry: the map exists now.
    if ((await conditional(() => this.doc.send(first))) === false && retry) await this.recordDelivery(requestId, key, messageId, false);
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

  /**
   * Every waiting execution has its Decision (or had already ended): forget the tokens, leave the queue
   * index, unless `keepIndexed` (a decision event is still owed; the monitor's sweep finds the row by it).
   */
  async markResumed(requestId: string, at: string, taskToken?: string, keepIndexed = false): Promise<boolean> {
    const update = new UpdateCommand(this.resumedItem(requestId, at, taskToken, keepIndexed).Update!);
    return (await conditional(() => this.doc.send(update))) !== false;
  }

  /** Claim the one outcome notice of a final row: true for the first caller only. */
  async claimOutcomeNotice(requestId: string, at: string): Promise<boolean> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET outcomeNoticeAt = :at',
      ConditionExpression: 'attribute_exists(requestId) AND attribute_not_exists(outcomeNoticeAt)',
      ExpressionAttributeValues: { ':at': at },
    });
    return (await conditional(() => this.doc.send(update))) !== false;
  }

  /**
   * markResumed's update, for a transaction with the `resumed` event (Ledger.resumed); with `eventPublishedAt`,
   * also the record that the decision event was accepted (one write instead of two).
   */
  resumedItem(requestId: string, at: string, taskToken?: string, keepIndexed = false, eventPublishedAt?: string): TxItem {
    const values: Record<string, unknown> = taskToken ? { ':at': at, ':token': taskToken } : { ':at': at };
    if (eventPublishedAt) values[':published'] = eventPublishedAt;
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId },
        UpdateExpression: `SET resumedAt = :at${eventPublishedAt ? ', eventPublishedAt = if_not_exists(eventPublishedAt, :published)' : ''} REMOVE taskToken, resumeClaimedAt, waiters${keepIndexed ? '' : ', pendingGroup'}`,
        ConditionExpression: taskToken ? 'taskToken = :token' : 'attribute_not_exists(resumedAt)',
        ExpressionAttributeValues: values,
      },
    };
  }

  /** The `hitl.decision` event was accepted by the bus. */
  async markEventPublished(requestId: string, at: string): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET eventPublishedAt = :at',
      ConditionExpression: 'attribute_exists(requestId) AND attribute_not_exists(eventPublishedAt)',
      ExpressionAttributeValues: { ':at': at },
    });
    await conditional(() => this.doc.send(update));
  }

  /** A final row that is resumed and whose decision event is published leaves the queue index. */
  async leaveQueueIndex(requestId: string): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'REMOVE pendingGroup',
      ConditionExpression: 'attribute_exists(resumedAt) AND attribute_exists(eventPublishedAt)',
    });
    await conditional(() => this.doc.send(update));
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
    return out === false ? undefined : withArgOrder(out.Attributes as StoredRequest);
  }

  /** Record which tier and round were emailed; ignored if the request has moved on meanwhile. */
  /** Where the round's Slack message is, so the outcome can replace it and a replayed round does not post twice. */
  async recordSlackMessage(requestId: string, message: { channel: string; ts: string; round: number }): Promise<void> {
    const update = new UpdateCommand({
      TableName: this.tableName,
      Key: { requestId },
      UpdateExpression: 'SET slackMessage = :message',
      ConditionExpression: 'attribute_exists(requestId)',
      ExpressionAttributeValues: { ':message': message },
    });
    await conditional(() => this.doc.send(update));
  }

  /** The round's tier and round recorded as reached, if the request is still in that round. */
  /**
   * The round's n-th reminder, claimed before it is sent: only while the request is pending in that round and
   * fewer than n of its reminders were claimed, so a repeated firing or one after the decision claims nothing.
   */
  remindedItem(requestId: string, round: number, reminder: number): TxItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId },
        UpdateExpression: 'SET reminderRound = :round, remindersSent = :n',
        ConditionExpression: '#status = :pending AND #round = :round AND (attribute_not_exists(reminderRound) OR reminderRound < :round OR remindersSent < :n)',
        ExpressionAttributeNames: { '#status': 'status', '#round': 'round' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':round': round, ':n': reminder },
      },
    };
  }

  notifiedItem(requestId: string, tier: number, round: number): TxItem {
    return {
      Update: {
        TableName: this.tableName,
        Key: { requestId },
        UpdateExpression: 'SET notifiedTier = :tier, notifiedRound = :round',
        ConditionExpression: '#round = :round',
        ExpressionAttributeNames: { '#round': 'round' },
        ExpressionAttributeValues: { ':tier': tier, ':round': round },
      },
    };
  }

  /** The live queue of a reviewer group, oldest first (sparse index; decided rows still resuming are skipped). */
  async pendingByGroup(group: string, options: { limit?: number; createdBefore?: string } = {}): Promise<StoredRequest[]> {
    return this.byGroup(group, 'PENDING', options);
  }

  /** A respondent's open in-app requests, oldest first (sparse index; a row leaves it when it ends). */
  async pendingByRespondent(respondentId: string, limit = 100): Promise<StoredRequest[]> {
    const { name, partitionKey } = REQUESTS.respondentIndex;
    return (await queryItems<StoredRequest>(
      this.doc,
      {
        TableName: this.tableName,
        IndexName: name,
        KeyConditionExpression: '#pk = :id',
        // The index is eventually consistent: a row that just ended may still be listed for a moment.
        FilterExpression: '#status = :pending',
        ExpressionAttributeNames: { '#pk': partitionKey, '#status': 'status' },
        ExpressionAttributeValues: { ':id': respondentId, ':pending': 'PENDING' },
        ScanIndexForward: true,
      },
      limit,
    )).map(withArgOrder);
  }

  /** Final rows of a group whose executions have not all been told yet (a resume a crash left undone). */
  async unresumedByGroup(group: string): Promise<StoredRequest[]> {
    return this.byGroup(group, 'FINAL', {});
  }

  /** Every shard of the group's index key queried in parallel, merged oldest first. */
  private async byGroup(group: string, which: 'PENDING' | 'FINAL', options: { limit?: number; createdBefore?: string }): Promise<StoredRequest[]> {
    const { name, partitionKey, sortKey } = REQUESTS.pendingIndex;
    const names: Record<string, string> = { '#pk': partitionKey, '#status': 'status' };
    const values: Record<string, unknown> = { ':pending': 'PENDING' };
    if (options.createdBefore) {
      names['#sk'] = sortKey;
      values[':before'] = options.createdBefore;
    }
    const shards = await Promise.all(
      pendingKeys(group, this.pendingShards).map((key) =>
        queryItems<StoredRequest>(
          this.doc,
          {
            TableName: this.tableName,
            IndexName: name,
            KeyConditionExpression: options.createdBefore ? '#pk = :key AND #sk < :before' : '#pk = :key',
            FilterExpression: which === 'PENDING' ? '#status = :pending' : '#status <> :pending',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ':key': key },
            ScanIndexForward: true,
          },
          options.limit,
        ),
      ),
    );
    const merged = shards.flat().map(withArgOrder).sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.requestId < b.requestId ? -1 : 1));
    return options.limit === undefined ? merged : merged.slice(0, options.limit);
  }

  /** How many of the group's requests are pending: every shard counted in parallel. */
  async countPendingByGroup(group: string): Promise<number> {
    const { name, partitionKey } = REQUESTS.pendingIndex;
    const counts = await Promise.all(
      pendingKeys(group, this.pendingShards).map(async (key) => {
        let count = 0;
        const pages = paginateQuery(
          { client: this.doc },
          {
            TableName: this.tableName,
            IndexName: name,
            KeyConditionExpression: '#pk = :key',
            // Decided rows stay in the index until their executions are told; they are not queued.
            FilterExpression: '#status = :pending',
            ExpressionAttributeNames: { '#pk': partitionKey, '#status': 'status' },
            ExpressionAttributeValues: { ':key': key, ':pending': 'PENDING' },
            Select: 'COUNT',
          },
        );
        for await (const page of pages) count += page.Count ?? 0;
        return count;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }
}
