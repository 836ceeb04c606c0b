/**
 * DynamoDB keeps no order among a map's keys: an approval's arguments come back from the requests table in an
 * order of the engine's own. The row keeps the order the agent sent them in (`argOrder`, a list), and reads put
 * the arguments (and a stored Decision's proposed and approved ones) back in it, so cards, forms and Decisions
 * list them as proposed.
 */
import type { ReviewRequest } from '../schemas/review-request.ts';
import type { StoredRequest } from './model.ts';

export function argOrderOf(request: ReviewRequest): string[] | undefined {
  return request.kind === 'approval' ? Object.keys(request.action.args) : undefined;
}

/** The same entries, those named in `order` first in that order, then any others as they came. */
export function inOrder<T extends Record<string, unknown>>(record: T, order: readonly string[]): T {
  const keys = [...order.filter((k) => Object.hasOwn(record, k)), ...Object.keys(record).filter((k) => !order.includes(k))];
  return Object.fromEntries(keys.map((k) => [k, record[k]])) as T;
}

/** A row as read, with its arguments back in the order the agent sent them (rows written before argOrder as read). */
export function withArgOrder<R extends StoredRequest | undefined>(row: R): R {
  const order = row?.argOrder;
  if (!row || !order) return row;
  const request = row.request.kind === 'approval' ? { ...row.request, action: { ...row.request.action, args: inOrder(row.request.action.args, order) } } : row.request;
  const decision = row.decision && {
    ...row.decision,
    ...(row.decision.proposedArgs ? { proposedArgs: inOrder(row.decision.proposedArgs, order) } : {}),
    ...(row.decision.approvedArgs ? { approvedArgs: inOrder(row.decision.approvedArgs, order) } : {}),
  };
  return { ...row, request, ...(decision ? { decision } : {}) };
}
