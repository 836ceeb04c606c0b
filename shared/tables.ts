/**
 * Table layouts. The stack (infra/), the local stack (local/) and the data access code (shared/store/)
 * all read these, so a key or index is named in one place.
 */
export const REQUESTS = {
  partitionKey: 'requestId',
  /**
   * Sparse: PENDING rows carry `pendingGroup`, and final rows keep it until every waiting execution has
   * been told; filtered on status, the index is the live queue oldest first, or the resumes still due.
   */
  pendingIndex: { name: 'pending-by-age', partitionKey: 'pendingGroup', sortKey: 'createdAt' },
  /**
   * Sparse: PENDING rows of an in-app request carry `pendingRespondent` (the respondent's user id), written
   * in the transaction that creates the row and removed in the one that ends it: a user's open requests.
   */
  respondentIndex: { name: 'pending-by-respondent', partitionKey: 'pendingRespondent', sortKey: 'createdAt' },
  ttlAttribute: 'purgeAt',
} as const;

export const DECISION_LOG = {
  partitionKey: 'requestId',
  /** `${at}#${seq}` : events of one request in order; seq breaks ties within a millisecond. */
  sortKey: 'eventKey',
  /** Sparse indexes: only final-decision events (`decided`, `expired`, `corrected`) carry these keys. */
  byAgentIndex: { name: 'decisions-by-agent', partitionKey: 'agent', sortKey: 'at' },
  byActionIndex: { name: 'decisions-by-action', partitionKey: 'actionType', sortKey: 'at' },
  /** `day` is the UTC date, YYYY-MM-DD: a time window is a few Queries, never a Scan. */
  byDayIndex: { name: 'decisions-by-day', partitionKey: 'day', sortKey: 'at' },
  ttlAttribute: 'purgeAt',
} as const;

export type IndexDef = { name: string; partitionKey: string; sortKey: string };
export const REQUESTS_INDEXES: readonly IndexDef[] = [REQUESTS.pendingIndex, REQUESTS.respondentIndex];
export const DECISION_LOG_INDEXES: readonly IndexDef[] = [
  DECISION_LOG.byAgentIndex,
  DECISION_LOG.byActionIndex,
  DECISION_LOG.byDayIndex,
];
