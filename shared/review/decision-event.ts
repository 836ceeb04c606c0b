/**
 * The `hitl.decision` event: when a request ends (decided, expired, cancelled, or decided by a policy at
 * once), the stack puts it on its own EventBridge bus, so agents and other systems are pushed the Decision
 * instead of polling. Detail: the Decision plus requestId, agent, actionType, executionArn and status;
 * never a task token or a link.
 *
 * Delivery is at least once and never costs the decision: a failed PutEvents is logged and the row keeps
 * its `pendingGroup` index key without `eventPublishedAt`, so the monitor's sweep publishes it again.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { Log } from '../clients.ts';
import type { Decision } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import type { RequestStore } from '../store/requests.ts';
import { describeError } from './decisions.ts';

export const DECISION_EVENT_SOURCE = 'hitl';
export const DECISION_EVENT_DETAIL_TYPE = 'hitl.decision';

/** What a rule target receives in `detail`. */
export type DecisionEventDetail = Decision & {
  requestId: string;
  agent: string;
  actionType: string;
  executionArn: string;
  status: StoredRequest['status'];
};

/** Where decision events go; absent from the deps when the deployment has no bus (nothing is published). */
export interface DecisionEvents {
  client: Pick<EventBridgeClient, 'send'>;
  busName: string;
}

export function decisionEventsFor(busName: string | undefined): DecisionEvents | undefined {
  return busName ? { client: new EventBridgeClient({}), busName } : undefined;
}

export function decisionEventDetail(row: StoredRequest, decision: Decision): DecisionEventDetail {
  return { ...decision, requestId: row.requestId, agent: row.agent, actionType: row.actionType, executionArn: row.executionArn, status: row.status };
}

export interface PublishDeps {
  decisionEvents?: DecisionEvents;
  requests: RequestStore;
  log: Log;
  now: () => Date;
}

/**
 * Put the row's `hitl.decision` event on the bus. Never throws: false means the event is still owed (the
 * sweep retries it). True when accepted, or when there is no bus or it was published before.
 */
export async function putDecisionEvent(deps: PublishDeps, row: StoredRequest): Promise<boolean> {
  if (!deps.decisionEvents || row.eventPublishedAt) return true;
  if (!row.decision || row.status === 'PENDING' || row.status === 'UNDELIVERABLE') return true;
  const { client, busName } = deps.decisionEvents;
  try {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: busName,
            Source: DECISION_EVENT_SOURCE,
            DetailType: DECISION_EVENT_DETAIL_TYPE,
            Resources: [row.executionArn],
            Detail: JSON.stringify(decisionEventDetail(row, row.decision)),
          },
        ],
      }),
    );
    const entry = out.Entries?.[0];
    if (out.FailedEntryCount || !entry?.EventId) {
      deps.log.error('The decision event was not accepted; the monitor will publish it again', { requestId: row.requestId, errorCode: entry?.ErrorCode, errorMessage: entry?.ErrorMessage });
      return false;
    }
    return true;
  } catch (err) {
    deps.log.error('Could not publish the decision event; the monitor will publish it again', { requestId: row.requestId, error: describeError(err) });
    return false;
  }
}

/** Whether this call put the event on the bus, so `eventPublishedAt` is still to be recorded. */
export function putNow(deps: PublishDeps, row: StoredRequest): boolean {
  return !!deps.decisionEvents && !row.eventPublishedAt && !!row.decision && row.status !== 'PENDING' && row.status !== 'UNDELIVERABLE';
}

/** Record that the row's event was accepted (a repeated record is a no-op). Never throws. */
export async function recordEventPublished(deps: PublishDeps, row: StoredRequest): Promise<void> {
  await deps.requests.markEventPublished(row.requestId, deps.now().toISOString()).catch((err: unknown) =>
    deps.log.warn('Could not record the published decision event; it may be published again', { requestId: row.requestId, error: describeError(err) }),
  );
}

/**
 * Put the row's `hitl.decision` event on the bus and record `eventPublishedAt`. Never throws: false means
 * the event is still owed (the sweep retries it). True when published, or when there is no bus.
 */
export async function publishDecisionEvent(deps: PublishDeps, row: StoredRequest): Promise<boolean> {
  const recordAfter = putNow(deps, row);
  if (!(await putDecisionEvent(deps, row))) return false;
  if (recordAfter) await recordEventPublished(deps, row);
  return true;
}

/**
 * The monitor's sweep: final rows still indexed (an unresumed execution, or an event still owed) get their
 * event published; rows that are resumed and published leave the index.
 */
export async function republishOwed(deps: PublishDeps, rows: readonly StoredRequest[]): Promise<number> {
  let published = 0;
  for (const row of rows) {
    if (!row.eventPublishedAt) {
      if (!(await publishDecisionEvent(deps, row))) continue;
      published++;
    }
    if (row.resumedAt) await deps.requests.leaveQueueIndex(row.requestId);
  }
  if (published) deps.log.warn('Published decision events that were owed', { published });
  return published;
}
