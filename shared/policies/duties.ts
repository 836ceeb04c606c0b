/**
 * Separation of duties: the person an agent acts for never decides their own request, and whoever escalated
 * a round does not decide a later one. Pure; addresses compare case-insensitively.
 */
import type { ReviewRequest } from '../schemas/review-request.ts';
import type { StoredRequest } from '../store/model.ts';

type DutyRow = { request: Pick<ReviewRequest, 'requestedBy'>; history?: StoredRequest['history'] };

export interface DutyConflict {
  reason: 'requester' | 'escalator';
  message: string;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

export function dutyConflict(row: DutyRow, approver: string): DutyConflict | undefined {
  const requestedBy = row.request.requestedBy;
  if (requestedBy !== undefined && same(requestedBy, approver)) {
    return { reason: 'requester', message: `The agent acts for ${approver}, so someone else must decide this request. Nothing was recorded.` };
  }
  if ((row.history ?? []).some((h) => h.by !== undefined && same(h.by, approver))) {
    return { reason: 'escalator', message: `${approver} escalated this request, so a later tier decides it. Nothing was recorded.` };
  }
  return undefined;
}

/** The members of a tier who may decide the request. */
export function eligibleMembers(members: readonly string[], row: DutyRow): string[] {
  return members.filter((m) => dutyConflict(row, m) === undefined);
}
