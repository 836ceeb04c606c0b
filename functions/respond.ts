/**
 * Reviewer endpoint: GET/HEAD /r/{requestId}?a&e&k&s renders the card, POST decides. Every response is
 * uncacheable, unframeable and leaks no referrer (the signed query string is a credential).
 */
import { Hono } from 'hono';
import { handle } from 'hono/aws-lambda';
import { renderErrorPage } from '#shared/render/index.ts';
import { describeError } from '#shared/review/decisions.ts';
import { reviewDepsFromEnv, type ReviewDeps } from '#shared/review/deps.ts';
import { submitReview, viewReview, type LinkQuery, type Page } from '#shared/review/respond.ts';

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

function linkQuery(query: Record<string, string>): LinkQuery {
  return { a: query.a, e: query.e, k: query.k, s: query.s };
}

export function createRespondApp(deps: ReviewDeps): Hono {
  const app = new Hono();
  const send = (page: Page) => new Response(page.html, { status: page.status, headers: { 'Content-Type': 'text/html; charset=utf-8' } });

  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  // Hono answers HEAD with this GET route, without the body.
  app.get('/r/:requestId', async (c) => send(await viewReview(deps, c.req.param('requestId'), linkQuery(c.req.query()))));

  app.post('/r/:requestId', async (c) => {
    const body = await c.req.parseBody();
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value;
    const page = await submitReview(deps, {
      requestId: c.req.param('requestId'),
      query: linkQuery(c.req.query()),
      fields,
      secFetchSite: c.req.header('sec-fetch-site'),
      origin: c.req.header('origin'),
    });
    return send(page);
  });

  app.notFound(() => send({ status: 404, html: renderErrorPage(404, 'Not found', 'There is nothing here. Open the link from your review email.') }));
  app.onError((err, c) => {
    deps.log.error('Respond failed', { method: c.req.method, error: describeError(err) });
    return send({ status: 500, html: renderErrorPage(500, 'Something went wrong', 'Open the link again to see whether your response was recorded; if not, try again in a minute.') });
  });
  return app;
}

const deps = reviewDepsFromEnv('respond', process.env);
export const app = createRespondApp(deps);
export const handler = handle(app);
