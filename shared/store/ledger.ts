/**
 * Writes that change a request's state together with the log event recording it, in one transaction:
 * a request is created with its `created` event and ends with its final event, never one without the other.
 */
import type { NewLogEvent, DecisionLog } from './decision-log.ts';
import type { Vote } from '../schemas/decision.ts';
import type { LogEvent, StoredRequest, WebhookRecord } from './model.ts';
import type { FinishArgs, RequestStore } from './requests.ts';
import { transact } from './transact.ts';

export type FinalLogEvent = NewLogEvent & { decision: NonNullable<LogEvent['decision']> };

export class Ledger {
  constructor(
    readonly requests: RequestStore,
    readonly log: DecisionLog,
  ) {}

  /** A new request and its `created` event (and, when a policy decided at once, its final event). */
  async create(row: StoredRequest, created: NewLogEvent, final?: FinalLogEvent): Promise<boolean> {
    const items = [this.requests.putNewItem(row), this.log.createdItem(created)];
    if (final) items.push(this.log.finalItem(final));
    return (await transact(this.requests.doc, items)) === undefined;
  }

  /**
   * End a pending request with its Decision and final event. The row as written, or `undefined` when
   * another decision, a new round or a cancel got there first.
   */
  async finish(requestId: string, args: FinishArgs, final: FinalLogEvent): Promise<StoredRequest | undefined> {
    if (!(await this.finishOnly(requestId, args, final))) return undefined;
    return this.requests.get(requestId);
  }

  /** finish's write alone: true when it ended the request, false when something else got there first. */
  async finishOnly(requestId: string, args: FinishArgs, final: FinalLogEvent): Promise<boolean> {
    return (await transact(this.requests.doc, [this.requests.finishItem(requestId, args), this.log.finalItem(final)])) === undefined;
  }

  /**
   * A quorum vote and its `voted` event; with `final`, the vote that settles the quorum also ends the request
   * with its final event. The row as written, or `undefined` when the request moved on or someone else voted
   * since `row` was read (read it again and count again).
   */
  async vote(row: StoredRequest, vote: Vote, event: NewLogEvent, final?: { finish: Omit<FinishArgs, 'expectedRound' | 'executionArn'>; event: FinalLogEvent }): Promise<StoredRequest | undefined> {
    const items = [this.requests.voteItem(row, vote, final?.finish), this.log.eventItem(event)];
    if (final) items.push(this.log.finalItem(final.event));
    if ((await transact(this.requests.doc, items)) !== undefined) return undefined;
    return this.requests.get(row.requestId);
  }

  /**
   * A final request's webhook outcome and its `webhook-delivered` / `webhook-failed` event: written once per
   * request. False when an outcome was already recorded (a repeated event, a concurrent delivery).
   */
  async recordWebhook(requestId: string, record: WebhookRecord, event: NewLogEvent): Promise<boolean> {
    return (await transact(this.requests.doc, [this.requests.webhookItem(requestId, record), this.log.eventItem(event)])) === undefined;
  }

  /**
   * Every waiting execution was told: `resumedAt` set and the tokens forgotten (see RequestStore.markResumed)
   * with the `resumed` event, and `eventPublishedAt` when given. False when another resume of the same token
   * got there first (it logs its own).
   */
  async resumed(requestId: string, at: string, taskToken: string, keepIndexed: boolean, event: NewLogEvent, eventPublishedAt?: string): Promise<boolean> {
    for (;;) {
      const failed = await transact(this.requests.doc, [this.requests.resumedItem(requestId, at, taskToken, keepIndexed, eventPublishedAt), this.log.eventItem(event)]);
      if (failed === undefined) return true;
      if (failed === 0) return false;
      // The event's key was taken (another event at the same millisecond and sequence): a new key, again.
    }
  }

  /**
   * The round's reviewers were reached: `notifiedTier` and `notifiedRound` with the `notified` event, in one
   * write. When the request has moved to another round meanwhile, the event alone (the messages went out).
   */
  async notified(requestId: string, tier: number, round: number, event: NewLogEvent): Promise<void> {
    for (;;) {
      const failed = await transact(this.requests.doc, [this.requests.notifiedItem(requestId, tier, round), this.log.eventItem(event)]);
      if (failed === undefined) return;
      if (failed === 0) {
        await this.log.append(event);
        return;
      }
      // The event's key was taken (another event at the same millisecond and sequence): a new key, again.
    }
  }

  /** A reminder claimed with its `reminded` event; false when the request ended, moved on or was already reminded. */
  async reminded(requestId: string, round: number, reminder: number, event: NewLogEvent): Promise<boolean> {
    for (;;) {
      const failed = await transact(this.requests.doc, [this.requests.remindedItem(requestId, round, reminder), this.log.eventItem(event)]);
      if (failed === undefined) return true;
      if (failed === 0) return false;
      // The event's key was taken (another event at the same millisecond and sequence): a new key, again.
    }
  }

  /** Close a first-round request that no reviewer could be emailed about, so the agent's retry starts afresh. */
  async closeUndeliverable(row: Pick<StoredRequest, 'requestId' | 'executionArn'>, event: NewLogEvent): Promise<boolean> {
    const items = [this.requests.undeliverableItem(row.requestId, row.executionArn), this.log.eventItem(event)];
    return (await transact(this.requests.doc, items)) === undefined;
  }
}
