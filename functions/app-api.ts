/**
 * In-app API (behind the JWT authorizer): a respondent lists their pending requests, reads one as a card
 * (JSON and an HTML fragment) and answers it. API Gateway has verified the token before this runs; the
 * handler takes the user from its `sub` claim and the domain checks it is the request's respondent.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Hono, type Context } from 'hono';
import { handle, type LambdaEvent } from 'hono/aws-lambda';
import { lazyClient } from '#shared/clients.ts';
import { describeError } from '#shared/review/decisions.ts';
import { reviewDepsFromEnv } from '#shared/deps-env.ts';
import type { ReviewDeps } from '#shared/review/deps.ts';
import { answerRequest, listPending, viewRequest, type ApiResult } from '#shared/review/in-app.ts';

/** JSON responses only; never cached (each is one user's). */
const HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', 'Content-Type': 'application/json; charset=utf-8' } as const;

type Env = { Bindings: { event: LambdaEvent } };

const send = (r: ApiResult) => new Response(JSON.stringify(r.body), { status: r.status, headers: HEADERS });
// Only reachable without the authorizer in front (a misconfigured route): API Gateway answers 401 itself.
const unauthorized = () => send({ status: 401, body: { error: { code: 'no-claims', message: 'No verified token claims reached the function.' } } });

/** The `sub` the JWT authorizer put in the request context (API Gateway HTTP API payload 2.0). */
function subOf(c: Context<Env>): string | undefined {
  const ctx = c.env?.event?.requestContext as { authorizer?: { jwt?: { claims?: Record<string, unknown> } } } | undefined;
  const sub = ctx?.authorizer?.jwt?.claims?.sub;
  return typeof sub === 'string' && sub !== '' ? sub : undefined;
}

export function createAppApi(deps: ReviewDeps): Hono<Env> {
  const app = new Hono<Env>();
  app.use('*', async (c, next) => {
    if (!subOf(c)) return unauthorized();
    await next();
  });
  app.get('/v1/respondents/:id/pending', async (c) => send(await listPending(deps, c.req.param('id'), subOf(c)!)));
  app.get('/v1/requests/:id', async (c) => send(await viewRequest(deps, c.req.param('id'), subOf(c)!)));
  app.post('/v1/requests/:id/response', async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      return send({ status: 400, body: { error: { code: 'invalid-json', message: 'Nothing was recorded: the body is not JSON.', issues: [{ path: '(root)', message: 'send a JSON object' }] } } });
    }
    return send(await answerRequest(deps, c.req.param('id'), subOf(c)!, body));
  });
  app.notFound(() => send({ status: 404, body: { error: { code: 'not-found', message: 'No such route.' } } }));
  app.onError((err, c) => {
    deps.log.error('In-app API failed', { method: c.req.method, error: describeError(err) });
    return send({ status: 500, body: { error: { code: 'internal', message: 'Something went wrong; read the request again to see whether your answer was recorded.' } } });
  });
  return app;
}

const deps = reviewDepsFromEnv(
  'app-api',
  process.env,
  {
    dynamodb: new DynamoDBClient({}),
    sfn: new SFNClient({}),
    scheduler: new SchedulerClient({}),
    // In-app requests are never emailed; SES and the secret are for the rare paths that share the review code.
    ses: lazyClient(() => new SESClient({})),
    secrets: lazyClient(() => new SecretsManagerClient({})),
  },
  // Nobody else is asked, so no channel to update (and no Slack credentials, even with Slack on).
  { channels: false },
);
export const handler = handle(createAppApi(deps));
