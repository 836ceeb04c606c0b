/**
 * Signing in to the web inbox by an emailed link. Anyone may ask for a link and gets the same answer; only a
 * configured reviewer is emailed one. The link is signed, works for 15 minutes and once: opening it (GET)
 * only shows a "Sign in" button, so a mail scanner that prefetches links uses nothing; the button's POST
 * marks the link used with a conditional write and starts the session.
 */
import { SendEmailCommand } from '@aws-sdk/client-ses';
import type { DeploymentConfig } from '../schemas/config.ts';
import { memberEmail } from '../schemas/member.ts';
import { SignInLinks } from '../store/sign-in-links.ts';
import type { ReviewDeps } from '../review/deps.ts';
import { InboxTokenError, newNonce, SESSION_SECONDS, SIGN_IN_LINK_SECONDS, signToken, verifyToken, type InboxToken } from './tokens.ts';

export const SIGN_IN_SUBJECT = 'Your sign-in link for the review inbox';
/** At most one sign-in email per address this often: the form cannot flood a reviewer's mailbox. */
export const SIGN_IN_COOLDOWN_SECONDS = 30;

/** The groups in which the address is a member of some tier (addresses compare case-insensitively). */
export function groupsOf(config: DeploymentConfig, approver: string): string[] {
  const me = approver.toLowerCase();
  return Object.entries(config.reviewerGroups)
    .filter(([, g]) => g.tiers.some((t) => t.members.some((m) => memberEmail(m)?.toLowerCase() === me)))
    .map(([name]) => name);
}

/** The address as configured (its spelling in the config), or undefined for someone who reviews nothing. */
export function configuredAddress(config: DeploymentConfig, address: string): string | undefined {
  const me = address.trim().toLowerCase();
  for (const group of Object.values(config.reviewerGroups)) {
    for (const tier of group.tiers) {
      const found = tier.members.map(memberEmail).find((m) => m?.toLowerCase() === me);
      if (found) return found;
    }
  }
  return undefined;
}

export function inboxUrl(deps: Pick<ReviewDeps, 'baseUrl'>, path = ''): string {
  return `${deps.baseUrl}/inbox${path}`;
}

/** Email a sign-in link if the address belongs to a reviewer; says nothing either way. */
export async function requestSignInLink(deps: ReviewDeps, address: string): Promise<void> {
  const approver = configuredAddress(deps.config, address);
  if (!approver) {
    deps.log.info('Inbox sign-in asked for an address that reviews nothing');
    return;
  }
  if (!(await new SignInLinks(deps.requests).mayEmail(approver, deps.now(), SIGN_IN_COOLDOWN_SECONDS))) {
    deps.log.info('Inbox sign-in link not sent: one was sent to this address moments ago');
    return;
  }
  const expiresAt = Math.floor(deps.now().getTime() / 1000) + SIGN_IN_LINK_SECONDS;
  const token = signToken(await deps.keyRing(), { purpose: 'sign-in', approver, expiresAt, nonce: newNonce() });
  const link = `${inboxUrl(deps, '/sign-in')}?${new URLSearchParams({ t: token }).toString()}`;
  const text = [
    `Someone (hopefully you) asked to sign in to the review inbox as ${approver}.`,
    '',
    `Open this link within ${SIGN_IN_LINK_SECONDS / 60} minutes to sign in; it works once:`,
    link,
    '',
    'If you did not ask, ignore this email: nothing happens without the link.',
  ].join('\n');
  await deps.ses.send(
    new SendEmailCommand({
      Source: deps.config.sender,
      Destination: { ToAddresses: [approver] },
      Message: { Subject: { Data: SIGN_IN_SUBJECT, Charset: 'UTF-8' }, Body: { Text: { Data: text, Charset: 'UTF-8' } } },
    }),
  );
  deps.log.info('Inbox sign-in link sent');
}

export type SignInCheck = { ok: true; token: InboxToken } | { ok: false; status: 401 | 410; title: string; message: string };

const ASK_AGAIN = 'Ask for a new sign-in link on the inbox page.';

async function check(deps: ReviewDeps, text: string | undefined, refresh = false): Promise<SignInCheck> {
  try {
    const token = verifyToken(await deps.keyRing(refresh ? { refresh: true } : undefined), 'sign-in', text, deps.now().getTime());
    if (!configuredAddress(deps.config, token.approver)) return { ok: false, status: 401, title: 'Not a reviewer', message: `${token.approver} no longer reviews any group.` };
    return { ok: true, token };
  } catch (err) {
    if (!(err instanceof InboxTokenError)) throw err;
    // A key added by a rotation may not be in this instance's cached ring yet.
    if (err.reason === 'bad-signature' && !refresh) return check(deps, text, true);
    if (err.reason === 'expired') return { ok: false, status: 410, title: 'This sign-in link has expired', message: `Links work for ${SIGN_IN_LINK_SECONDS / 60} minutes. ${ASK_AGAIN}` };
    return { ok: false, status: 401, title: 'This sign-in link is not valid', message: `${err.message}. ${ASK_AGAIN}` };
  }
}

const USED: SignInCheck = { ok: false, status: 410, title: 'This sign-in link was already used', message: `Each link signs in once. ${ASK_AGAIN}` };

/** GET: is the link good to show the "Sign in" button? Reads only. */
export async function checkSignInLink(deps: ReviewDeps, text: string | undefined): Promise<SignInCheck> {
  const checked = await check(deps, text);
  if (checked.ok && (await new SignInLinks(deps.requests).used(checked.token.nonce))) return USED;
  return checked;
}

/** POST: use the link (once) and return the session cookie's token. */
export async function useSignInLink(deps: ReviewDeps, text: string | undefined): Promise<{ ok: true; session: string; approver: string } | Exclude<SignInCheck, { ok: true }>> {
  const checked = await check(deps, text);
  if (!checked.ok) return checked;
  const { token } = checked;
  if (!(await new SignInLinks(deps.requests).use(token.nonce, token.approver, deps.now(), token.expiresAt))) return USED as Exclude<SignInCheck, { ok: true }>;
  const expiresAt = Math.floor(deps.now().getTime() / 1000) + SESSION_SECONDS;
  const session = signToken(await deps.keyRing(), { purpose: 'session', approver: token.approver, expiresAt, nonce: newNonce() });
  deps.log.info('Inbox session started', { approver: token.approver });
  return { ok: true, session, approver: token.approver };
}

/** The session a cookie carries, if it is authentic, current, and its reviewer still reviews some group. */
export async function readSession(deps: ReviewDeps, cookie: string | undefined): Promise<InboxToken | undefined> {
  if (cookie === undefined) return undefined;
  try {
    const session = verifyToken(await deps.keyRing(), 'session', cookie, deps.now().getTime());
    return configuredAddress(deps.config, session.approver) ? session : undefined;
  } catch (err) {
    if (err instanceof InboxTokenError) return undefined;
    throw err;
  }
}
