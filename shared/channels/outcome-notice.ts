/**
 * When a request ends, the others who were emailed about it learn how: one short notice each ("Approved
 * by lead@example.com at 14:02: Refund $350 O-9421"), never to the person who decided.
 *
 * Sent by the email channel's `conclude` (the conclude function, shared/review/conclude.ts) on the request's `hitl.decision` event, after the
 * reviewer's page has returned. Exactly once per request end: the notice is claimed on the row
 * (`outcomeNoticeAt`, a conditional write) before anything is sent, so a repeated event sends nothing. The
 * price is at most once: a crash between the claim and SES accepting the messages loses the notice, which
 * only informs.
 */
import { SendEmailCommand } from '@aws-sdk/client-ses';
import { renderOutcomeEmail } from '../render/index.ts';
import type { StoredRequest } from '../store/model.ts';
import { describeError, visibleRow } from '../review/decisions.ts';
import type { ReviewDeps } from '../review/deps.ts';

/** Everyone emailed a review link for the request (any round), except whoever decided it. */
export function outcomeRecipients(row: Pick<StoredRequest, 'deliveries' | 'decision'>): string[] {
  const decider = row.decision?.decidedBy.toLowerCase();
  const asked = Object.keys(row.deliveries ?? {}).map((key) => key.slice(key.indexOf(':') + 1));
  return [...new Set(asked)].filter((approver) => approver !== decider).sort();
}

export type OutcomeNoticeResult = { sent: string[]; failed: string[] } | { skipped: 'disabled' | 'nobody' | 'already-sent' | 'no-group' };

/** What sending the notices needs: the config, the row's claim, SES. */
export type OutcomeNoticeDeps = Pick<ReviewDeps, 'config' | 'requests' | 'ses' | 'log' | 'now'>;

export async function sendOutcomeNotices(deps: OutcomeNoticeDeps, row: StoredRequest): Promise<OutcomeNoticeResult> {
  if (deps.config.notices?.outcomeEmail === false) return { skipped: 'disabled' };
  const group = deps.config.reviewerGroups[row.reviewerGroup];
  if (!group) return { skipped: 'no-group' };
  const recipients = outcomeRecipients(row);
  if (recipients.length === 0) return { skipped: 'nobody' };
  if (!(await deps.requests.claimOutcomeNotice(row.requestId, deps.now().toISOString()))) return { skipped: 'already-sent' };

  const email = renderOutcomeEmail({ request: visibleRow(row), group, now: deps.now() });
  const sent: string[] = [];
  const failed: string[] = [];
  await Promise.all(
    recipients.map(async (to) => {
      try {
        await deps.ses.send(
          new SendEmailCommand({
            Source: deps.config.sender,
            Destination: { ToAddresses: [to] },
            Message: {
              Subject: { Data: email.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
            },
          }),
        );
        sent.push(to);
      } catch (err) {
        failed.push(to);
        deps.log.warn('Outcome notice not accepted', { requestId: row.requestId, to, error: describeError(err) });
      }
    }),
  );
  deps.log.info('Outcome notices sent', { requestId: row.requestId, sent: sent.length, failed: failed.length });
  return { sent: sent.sort(), failed: failed.sort() };
}
