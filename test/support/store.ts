/**
 * The requests table and the decision log on throwaway tables of the run's DynamoDB Local, with the Ledger the handlers write through,
 * and a pending billing request row to start from.
 */
import { parseReviewRequest } from '#shared/schemas/review-request.ts';
import { DecisionLog } from '#shared/store/decision-log.ts';
import { Ledger } from '#shared/store/ledger.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { RequestStore } from '#shared/store/requests.ts';
import { startDynamo, type LocalDynamo } from './dynamo.ts';

export interface StoreFixture {
  dynamo: LocalDynamo;
  requests: RequestStore;
  log: DecisionLog;
  ledger: Ledger;
}

export async function startStore(): Promise<StoreFixture> {
  const dynamo = await startDynamo();
  const requests = new RequestStore(dynamo.doc, dynamo.tables.requests);
  const log = new DecisionLog(dynamo.doc, dynamo.tables.decisions);
  return { dynamo, requests, log, ledger: new Ledger(requests, log) };
}

export const BILLING_REQUEST = parseReviewRequest({
  kind: 'approval',
  agent: 'billing-agent',
  reason: 'r',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'billing',
  action: { name: 'refund', args: { amount_usd: 10 } },
});

/** A PENDING first-round row of BILLING_REQUEST (not written), waiting on `token-<requestId>`. */
export function pendingRow(requestId: string, createdAt: string, group = 'billing'): StoredRequest {
  return {
    requestId,
    status: 'PENDING',
    kind: 'approval',
    agent: 'billing-agent',
    actionType: 'approval#refund',
    reviewerGroup: group,
    fallback: 'deny',
    request: BILLING_REQUEST,
    tier: 1,
    round: 1,
    createdAt,
    expiresAt: createdAt,
    ttlSeconds: 1800,
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:hitl:${requestId}`,
    taskToken: `token-${requestId}`,
    pendingGroup: group,
  };
}
