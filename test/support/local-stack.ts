/**
 * The whole local stack for tests: started in this process on free ports in a temporary state directory,
 * with retries that do not wait (Step Functions, Scheduler, event bus). Local and e2e tests share it:
 *
 *   const stack = await startTestStack();
 *   const { executionArn } = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input }));
 *   const [email] = await stack.waitForReviewEmails(stack.requestIdOf(executionArn, input), { to: 'lead@example.com' });
 *   await stack.submit(stack.reviewLinks(email)[0], { choice: 'approve', round: '1' });
 *   const done = await stack.waitForExecution(executionArn);
 *   await stack.stop();
 *
 * One test file may `restart()` its stack (same state directory, same ports); the handlers stay loaded.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DescribeExecutionCommand, type DescribeExecutionCommandOutput } from '@aws-sdk/client-sfn';
import type { Clock } from '#local/clock.ts';
import { deriveRequestId } from '#shared/review/admission.ts';
import type { StoredEmail } from '#local/ses.ts';
import { REPO_ROOT, startLocalStack, type LocalStack, type LocalStackOptions, type Ports } from '#local/stack.ts';
import { pollUntil } from '#local/bench/stats.ts';
import { sharedDynamoEndpoint } from './dynamo-engine.ts';

export interface TestStackOptions {
  /** Reuse a state directory (a restart); default a new temporary one, removed by `stop({ keepState: false })`. */
  stateDir?: string;
  ports?: Partial<Ports>;
  /** A ManualClock to fire schedules with `stack.scheduler.advanceBy(ms)`. */
  clock?: Clock;
  /** CDK context on top of cdk.json's, e.g. `{ hitl: {...config} }`. */
  context?: Record<string, unknown>;
  /** Powertools log level of the functions. @default 'ERROR' */
  functionLogLevel?: string;
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Add to the synthesized template before it is resolved, e.g. an event rule the CDK app does not have yet. */
  amendTemplate?: LocalStackOptions['amendTemplate'];
  /** Local-only HTTP and file targets for the decision events. */
  forwardEvents?: LocalStackOptions['forwardEvents'];
  /**
   * Start the stack's own DynamoDB Local in its state directory, as `npm start` does; by default the stack
   * uses the run's one engine, its tables named after its state directory (the same again on restart).
   */
  ownDynamodb?: boolean;
}

export interface TestStack extends LocalStack {
  /** Poll DescribeExecution until the execution is no longer RUNNING. */
  waitForExecution(executionArn: string, timeoutMs?: number): Promise<DescribeExecutionCommandOutput>;
  /** Poll the mail viewer until `count` emails match. */
  waitForEmails(match?: (email: StoredEmail) => boolean, count?: number, timeoutMs?: number): Promise<StoredEmail[]>;
  /** Review links (to the local respond server) in an email's text, in order. */
  reviewLinks(email: StoredEmail): string[];
  /** The request id the route function gives an execution's request (`input` as started: object or JSON). */
  requestIdOf(executionArn: string, input: string | { agent: string; idempotencyKey?: string }): string;
  /**
   * The emails that link to this request, only those to `to` if given. Emails are told apart by their links'
   * path, `/r/<requestId>`, never by text that a signature or another id could contain.
   */
  reviewEmails(requestId: string, options?: { to?: string }): Promise<StoredEmail[]>;
  /** Poll the mail viewer until `count` emails (default 1) link to this request, as reviewEmails picks them. */
  waitForReviewEmails(requestId: string, options?: { to?: string; count?: number; timeoutMs?: number }): Promise<StoredEmail[]>;
  /** POST a reviewer's form to a review link as the page would (same-origin browser request). */
  submit(link: string, fields: Record<string, string>): Promise<Response>;
  /** Stop and start again on the same state directory and ports. */
  restart(): Promise<TestStack>;
  /** Stop; removes the temporary state directory unless `keepState`. */
  stop(options?: { keepState?: boolean }): Promise<void>;
}

const FREE_PORTS: Ports = { respond: 0, ses: 0, sfn: 0, scheduler: 0, dynamodb: 0, secretsManager: 0, events: 0, slack: 0 };

/** Synthesized templates are reused across test files, one directory per CDK context. */
function cdkOutDir(context: Record<string, unknown> | undefined): string {
  const key = createHash('sha256').update(JSON.stringify(context ?? {})).digest('hex').slice(0, 12);
  return join(REPO_ROOT, 'node_modules', '.cache', 'hitl-local', `cdk.out-${key}`);
}

const poll = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => pollUntil(what, timeoutMs, 50, probe);

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const temporary = options.stateDir === undefined;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'hitl-stack-'));
  const stackOptions: LocalStackOptions = {
    stateDir,
    ports: { ...FREE_PORTS, ...options.ports },
    clock: options.clock,
    context: options.context,
    cdkOutDir: cdkOutDir(options.context),
    retryIntervalMs: 0,
    scheduleRetryDelayMs: 0,
    eventRetryDelayMs: 0,
    amendTemplate: options.amendTemplate,
    forwardEvents: options.forwardEvents,
    ...(options.ownDynamodb ? {} : { dynamodb: { endpoint: sharedDynamoEndpoint(), tablePrefix: `s${createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 10)}-` } }),
    functionLogLevel: options.functionLogLevel ?? 'ERROR',
    env: options.env,
    log: options.log,
  };
  let stack: LocalStack;
  try {
    stack = await startLocalStack(stackOptions);
  } catch (err) {
    if (temporary) rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const linkPrefix = `${stack.endpoints.respond}/r/`;
  const reviewLinks = (email: StoredEmail) =>
    [...(email.body.text ?? email.body.html ?? '').matchAll(/https?:\/\/[^\s"'<>]+/g)]
      .map((m) => m[0].replaceAll('&amp;', '&'))
      // The email's buttons repeat the link with a choice armed (`&choice=approve`): the same link, not another.
      .filter((u) => u.startsWith(linkPrefix) && !new URL(u).searchParams.has('choice'));
  const isReviewEmail = (email: StoredEmail, requestId: string, to: string | undefined) =>
    (to === undefined || email.destination.to.includes(to)) && reviewLinks(email).some((link) => new URL(link).pathname === `/r/${encodeURIComponent(requestId)}`);
  const waitForEmails = (match: (email: StoredEmail) => boolean = () => true, count = 1, timeoutMs = 30_000) =>
    poll(`${count} matching email(s)`, timeoutMs, async () => {
      const found = (await stack.emails()).filter(match);
      return found.length >= count ? found : undefined;
    });

  const testStack: TestStack = {
    ...stack,
    waitForExecution: (executionArn, timeoutMs = 30_000) =>
      poll(`${executionArn} to finish`, timeoutMs, async () => {
        const out = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
        return out.status === 'RUNNING' ? undefined : out;
      }),
    waitForEmails,
    reviewLinks,
    requestIdOf: (executionArn, input) => deriveRequestId(typeof input === 'string' ? (JSON.parse(input) as { agent: string; idempotencyKey?: string }) : input, executionArn),
    reviewEmails: async (requestId, { to } = {}) => (await stack.emails()).filter((e) => isReviewEmail(e, requestId, to)),
    waitForReviewEmails: (requestId, { to, count = 1, timeoutMs } = {}) => waitForEmails((e) => isReviewEmail(e, requestId, to), count, timeoutMs),
    submit: (link, fields) =>
      fetch(link, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: new URL(link).origin },
        body: new URLSearchParams(fields).toString(),
        redirect: 'manual',
      }),
    restart: async () => {
      await stack.stop();
      const next = await startTestStack({ ...options, stateDir, ports: stack.ports });
      if (temporary) {
        const stopNext = next.stop;
        next.stop = ({ keepState = false } = {}) => stopNext({ keepState });
      }
      return next;
    },
    stop: async ({ keepState = !temporary } = {}) => {
      await stack.stop();
      if (!keepState) rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return testStack;
}
