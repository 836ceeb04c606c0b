/**
 * Reviewer endpoint: GET/HEAD /r/{requestId}?a&e&k&s[&choice] renders the card, POST decides. Every response is
 * uncacheable, unframeable and leaks no referrer (the signed query string is a credential).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Hono, type Context } from 'hono';
import { handle, type APIGatewayProxyResult } from 'hono/aws-lambda';
import { lazyClient } from '#shared/clients.ts';
import { renderErrorPage } from '#shared/render/index.ts';
import { describeError } from '#shared/review/decisions.ts';
import { reviewDepsFromEnv } from '#shared/deps-env.ts';
import type { ReviewDeps } from '#shared/review/deps.ts';
import { submitReview, viewReview, type LinkQuery, type Page } from '#shared/review/respond.ts';
import { createInboxRoutes } from './inbox-routes.ts';

/**
 * On every response, pages and errors alike. One record rather than Hono's secureHeaders(): the Lambda
 * adapter answers an event it cannot turn into a request (400) before the app runs, and the handler
 * below gives those replies the same headers.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/**
 * The link's signed fields, and `choice` (unsigned: it only picks the section an email button opens). One
 * given twice counts as missing, so a link has a single valid spelling.
 */
function linkQuery(c: Context): LinkQuery {
  const all = c.req.queries();
  const one = (name: string) => (all[name]?.length === 1 ? all[name][0] : undefined);
  return { a: one('a'), e: one('e'), k: one('k'), s: one('s'), choice: one('choice') };
}

export function createRespondApp(deps: ReviewDeps): Hono {
  const app = new Hono();
  const send = (page: Page) => new Response(page.html, { status: page.status, headers: { 'Content-Type': 'text/html; charset=utf-8' } });

  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.res.headers.set(name, value);
  });

  // Hono answers HEAD with this GET route, without the body.
  app.get('/r/:requestId', async (c) => send(await viewReview(deps, c.req.param('requestId'), linkQuery(c))));

  app.post('/r/:requestId', async (c) => {
    let body: Awaited<ReturnType<typeof c.req.parseBody>>;
    try {
      body = await c.req.parseBody();
    } catch {
      return send({ status: 400, html: renderErrorPage(400, 'The form could not be read', 'Nothing was recorded. Open the link from your review email and choose again.') });
    }
    const fields: Record<string, string> = {};
    for (const [name, value] of Object.entries(body)) if (typeof value === 'string') fields[name] = value;
    const page = await submitReview(deps, {
      requestId: c.req.param('requestId'),
      query: linkQuery(c),
      fields,
      secFetchSite: c.req.header('sec-fetch-site'),
      origin: c.req.header('origin'),
    });
    return send(page);
  });

  app.route('/inbox', createInboxRoutes(deps));
  for (const channel of deps.channels) {
    const interactions = channel.interactions;
    if (!interactions) continue;
    // A channel's own answers (Slack's interactivity requests): verified by the channel, answered with JSON (or nothing), never HTML.
    app.post(interactions.path, async (c) => {
      const out = await interactions.handle(deps, { body: await c.req.text(), header: (name) => c.req.header(name) });
      return out.json === undefined ? c.body(null, out.status as 200) : c.json(out.json, out.status as 200);
    });
  }

  app.notFound(() => send({ status: 404, html: renderErrorPage(404, 'Not found', 'There is nothing here. Open the link from your review email.') }));
  app.onError((err, c) => {
    deps.log.error('Respond failed', { method: c.req.method, error: describeError(err) });
    return send({ status: 500, html: renderErrorPage(500, 'Something went wrong', 'Open the link again to see whether your response was recorded; if not, try again in a minute.') });
  });
  return app;
}

const deps = reviewDepsFromEnv('respond', process.env, {
  dynamodb: new DynamoDBClient({}),
  sfn: new SFNClient({}),
  scheduler: new SchedulerClient({}),
  secrets: new SecretsManagerClient({}),
  // Email goes out only when a decision escalates to the next tier.
  ses: lazyClient(() => new SESClient({})),
});
export const app = createRespondApp(deps);
const lambda = handle(app);

function withSecurityHeaders<R extends APIGatewayProxyResult>(result: R): R {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
    if (result.multiValueHeaders) result.multiValueHeaders[name.toLowerCase()] = [value];
    else result.headers![name.toLowerCase()] = value;
  }
  return result;
}

export const handler: typeof lambda = async (event, context) => withSecurityHeaders(await lambda(event, context));
