/** The reviewer's surface: pages and emails, all pure functions of a stored request. */
export type { Card, CardInput, Fact } from './card.ts';
export { buildCard, formatCall } from './card.ts';
export { renderReviewPage, argFieldValue, type ReviewPageInput } from './review-page.ts';
export { renderStatusPage, type StatusPageInput } from './status-page.ts';
export { describeStatus, type StatusSummary } from './status.ts';
export { renderErrorPage } from './error-page.ts';
export { renderReviewEmail, emailSubject, type ReviewEmail, type ReviewEmailInput } from './email.ts';
export { escapeHtml } from './html.ts';
export { formatDuration, formatTimeLeft, formatWaiting, formatZoned } from './time.ts';
export { renderOutcomeEmail, type OutcomeEmail } from './outcome-email.ts';
