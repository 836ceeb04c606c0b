/**
 * The web inbox's routes, mounted under `/inbox` by the respond function: parse the request, call
 * shared/inbox, answer with a page. Sessions are a signed cookie (HttpOnly, Secure, SameSite=Strict,
 * Path=/inbox, 8 hours); every POST must come from this origin and, once signed in, carry the session's
 * form token.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { bulkApprove, createTrustRule, loadInbox, revokeTrustRule } from '#shared/inbox/inbox.ts';
import { checkSignInLink, readSession, requestSignInLink, useSignInLink } from '#shared/inbox/sign-in.ts';
import { formToken, SESSION_SECONDS, verifyFormToken, type InboxToken } from '#shared/inbox/tokens.ts';
import { InvalidRequestError } from '#shared/errors.ts';
import { renderErrorPage } from '#shared/render/index.ts';
import {
  INBOX_FIELDS,
  renderCheckMailPage,
  renderConfirmSignInPage,
  renderInboxPage,
  renderSignInPage,
  type InboxPaths,
} from '#shared/render/inbox-page.ts';
import type { ReviewDeps } from '#shared/review/deps.ts';
import { isSameOrigin } from '#shared/review/respond.ts';
import { parseTrustRuleForm } from '#shared/schemas/trust-rule.ts';

export const SESSION_COOKIE = 'hitl_inbox';

type Form = Record<string, string | string[]>;

export function createInboxRoutes(deps: ReviewDeps): Hono {
  const app = new Hono();
  const base = new URL(deps.baseUrl);
  const cookiePath = `${base.pathname.replace(/\/+$/, '')}/inbox`;
  const paths: InboxPaths = {
    requestLink: `${cookiePath}/link`,
    signIn: `${cookiePath}/sign-in`,
    approve: `${cookiePath}/approve`,
    trust: `${cookiePath}/trust`,
    revoke: `${cookiePath}/trust/revoke`,
    signOut: `${cookiePath}/sign-out`,
  };
  const send = (c: Context, status: number, html: string) => c.html(html, status as 200);
  const error = (c: Context, status: number, title: string, message: string) => send(c, status, renderErrorPage(status, title, message));

  async function form(c: Context): Promise<Form | undefined> {
    try {
      const body = await c.req.parseBody({ all: true });
      const out: Form = {};
      for (const [name, value] of Object.entries(body)) {
        if (typeof value === 'string') out[name] = value;
        else if (Array.isArray(value)) out[name] = value.filter((v): v is string => typeof v === 'string');
      }
      return out;
    } catch {
      return undefined;
    }
  }
  const one = (f: Form, name: string): string | undefined => (typeof f[name] === 'string' ? f[name] : undefined);
  const sameOrigin = (c: Context) => isSameOrigin(deps.baseUrl, c.req.header('sec-fetch-site'), c.req.header('origin'));
  const originHeaders = (c: Context) => ({ secFetchSite: c.req.header('sec-fetch-site'), origin: c.req.header('origin') });

  /** A signed-in POST: same origin, a session, its form token and the form; else the page that says why. */
  async function signedInPost(c: Context): Promise<{ session: InboxToken; fields: Form } | Response> {
    if (!sameOrigin(c)) return error(c, 403, 'Cross-site request refused', 'Use the forms of the inbox page itself.');
    const session = await readSession(deps, getCookie(c, SESSION_COOKIE));
    if (!session) return error(c, 401, 'Not signed in', 'Your session has ended or was never started. Open the inbox and sign in again.');
    const fields = await form(c);
    if (!fields) return error(c, 400, 'The form could not be read', 'Nothing was changed. Open the inbox and try again.');
    if (!verifyFormToken(await deps.keyRing(), session, one(fields, INBOX_FIELDS.formToken))) {
      return error(c, 403, 'This form has expired', 'Nothing was changed. Open the inbox again and resend the form from there.');
    }
    return { session, fields };
  }

  async function inboxPage(c: Context, session: InboxToken, status = 200, extra: { notice?: string; results?: Parameters<typeof renderInboxPage>[0]['results'] } = {}) {
    const inbox = await loadInbox(deps, session.approver);
    return send(c, status, renderInboxPage({ inbox, now: deps.now(), formToken: formToken(await deps.keyRing(), session), paths, ...extra }));
  }

  app.get('/', async (c) => {
    const session = await readSession(deps, getCookie(c, SESSION_COOKIE));
    if (!session) return send(c, 200, renderSignInPage(paths));
    return inboxPage(c, session);
  });

  app.post('/link', async (c) => {
    if (!sameOrigin(c)) return error(c, 403, 'Cross-site request refused', 'Ask for a sign-in link on the inbox page itself.');
    const fields = await form(c);
    const email = fields ? one(fields, INBOX_FIELDS.email)?.trim() : undefined;
    if (!email || email.length > 254 || !/^[^\s@]+@[^\s@]+$/.test(email)) return send(c, 400, renderSignInPage(paths, 'Enter an email address, e.g. you@example.com.'));
    await requestSignInLink(deps, email);
    return send(c, 200, renderCheckMailPage());
  });

  // Opening the emailed link changes nothing (mail scanners prefetch links): it shows the button that signs in.
  app.get('/sign-in', async (c) => {
    const token = c.req.queries(INBOX_FIELDS.signInToken);
    const checked = await checkSignInLink(deps, token?.length === 1 ? token[0] : undefined);
    if (!checked.ok) return error(c, checked.status, checked.title, checked.message);
    return send(c, 200, renderConfirmSignInPage(paths, token![0]!, checked.token.approver));
  });

  app.post('/sign-in', async (c) => {
    if (!sameOrigin(c)) return error(c, 403, 'Cross-site request refused', 'Open the sign-in link from your email and press its button.');
    const fields = await form(c);
    const used = await useSignInLink(deps, fields ? one(fields, INBOX_FIELDS.signInToken) : undefined);
    if (!used.ok) return error(c, used.status, used.title, used.message);
    setCookie(c, SESSION_COOKIE, used.session, { httpOnly: true, secure: true, sameSite: 'Strict', path: cookiePath, maxAge: SESSION_SECONDS });
    return c.redirect(cookiePath, 303);
  });

  app.post('/sign-out', async (c) => {
    const post = await signedInPost(c);
    if (post instanceof Response) return post;
    deleteCookie(c, SESSION_COOKIE, { path: cookiePath, secure: true, httpOnly: true, sameSite: 'Strict' });
    return send(c, 200, renderSignInPage(paths, 'You are signed out.'));
  });

  app.post('/approve', async (c) => {
    const post = await signedInPost(c);
    if (post instanceof Response) return post;
    const raw = post.fields[INBOX_FIELDS.item];
    const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    const outcome = await bulkApprove(deps, post.session.approver, values, originHeaders(c));
    if ('refused' in outcome) return inboxPage(c, post.session, 403, { notice: outcome.refused });
    return inboxPage(c, post.session, 200, { results: outcome.results });
  });

  app.post('/trust', async (c) => {
    const post = await signedInPost(c);
    if (post instanceof Response) return post;
    const fields: Record<string, string> = {};
    for (const name of ['group', 'agent', 'action', 'bounds', 'hours', 'note']) {
      const value = one(post.fields, name);
      if (value !== undefined) fields[name] = value;
    }
    let parsed;
    try {
      parsed = parseTrustRuleForm(fields);
    } catch (err) {
      if (!(err instanceof InvalidRequestError)) throw err;
      return inboxPage(c, post.session, 400, { notice: `No trust rule was created. Please fix: ${err.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}` });
    }
    const created = await createTrustRule(deps, post.session.approver, parsed);
    if (!created.ok) return inboxPage(c, post.session, created.status, { notice: created.message });
    return inboxPage(c, post.session, 200, { notice: `Trust rule ${created.rule.id} created: ${created.rule.agent} may ${created.rule.action} until ${created.rule.expiresAt}.` });
  });

  app.post('/trust/revoke', async (c) => {
    const post = await signedInPost(c);
    if (post instanceof Response) return post;
    const group = one(post.fields, 'group') ?? '';
    const id = one(post.fields, 'id') ?? '';
    const revoked = await revokeTrustRule(deps, post.session.approver, group, id);
    if (!revoked.ok) return inboxPage(c, post.session, revoked.status, { notice: revoked.message });
    return inboxPage(c, post.session, 200, { notice: `Trust rule ${id} revoked.` });
  });

  return app;
}
