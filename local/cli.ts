/**
 * `hitl`: start a review request by hand and wait for or look up its outcome; report on decisions and export
 * eval cases. Talks to the local stack (endpoints from `.hitl/local.json`) or, with --state-machine-arn or the
 * table names, to AWS with the standard SDK config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
  type DescribeExecutionCommandOutput,
  type ExecutionStatus,
} from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NAMED_QUERIES, namedQuery } from '#shared/analytics/queries.ts';
import { documentClient } from '#shared/clients.ts';
import { neutralize, printableJson } from '#shared/render/inert-text.ts';
import { ConfigError, InvalidRequestError } from '#shared/errors.ts';
import { evalCases } from '#shared/review/eval-export.ts';
import { fetchDecisions, formatReport, report as buildReport, type DecisionQuery, type DecisionSource } from '#shared/review/report.ts';
import { parseDeploymentConfig, type DeploymentConfig } from '#shared/schemas/config.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { FallbackPolicy, KINDS, parseReviewRequest, type ReviewRequest } from '#shared/schemas/review-request.ts';
import { DecisionLog, type TimeWindow } from '#shared/store/decision-log.ts';
import { runDemoAgent, summarizeDecision } from './demo-agent.ts';
import { NoLocalStackError, readEndpointsFile, type EndpointsFile } from './endpoints-file.ts';
import { ensureIssuerKeys, mintToken } from './in-app-issuer.ts';
import type { DecisionDatabase } from './sql.ts';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { suggestCommand, SUGGESTED_FILE, whatifCommand, type ReadDecisions } from './policy-commands.ts';
import { redrive } from './redrive.ts';

export const USAGE = `hitl: human review requests from the command line

Usage:
  hitl request --agent <name> --action <name> [--args '<json>'] --reason <text> --risk <class> [options]
  hitl request --input <file.json | ->            a whole ReviewRequest (any kind) as JSON
  hitl status <execution-arn>                     status, and the Decision once there is one
  hitl cancel <execution-arn> [--reason <text>]   stop the execution; its pending request is cancelled
  hitl list [--status RUNNING|SUCCEEDED|FAILED|TIMED_OUT|ABORTED] [--max <n>]
  hitl demo                                       the demo agent's refund request
  hitl env                                        shell exports that point AWS CLIs and SDKs at the local stack
  hitl webhook-secret                             the secret decision webhooks are signed with (verify with it)
  hitl token --user <id> [--ttl <seconds>] [--email <address>]
                                                  a JWT for the local in-app API, signed by the local issuer
  hitl report [--since …] [--until …] [--agent <name>] [--action <type>] [--json]
                                                  rates, latency and findings per agent and action type
  hitl export [--since …] [--until …] [--agent <name>] [--action <type>] [--all]
                                                  eval cases as JSON Lines: where people disagreed with the agent
  hitl sql "<query>" [--since …] [--until …] [--json | --csv] [--data <dir>] [--refresh]
  hitl sql --named <name> [--since …] [--until …] [--json | --csv] [--data <dir>] [--show]
  hitl sql --list                                 SQL (DuckDB) over the decisions table Athena also has;
                                                  --list names the saved queries
  hitl whatif --policy <file.json> [--since …] [--until …] [--agent <name>] [--action <type>] [--json]
                                                  the decision log replayed under a proposed policy: reviews saved
                                                  and added, and what people rejected that would pass unreviewed
                                                  (exit 1 if anything would)
  hitl redrive --queue-url <url> [--max <n>] [--dry-run] [--region <region>]
                                                  send a dead-letter queue's messages back to the functions that
                                                  failed them (stack output DeadLetterQueueUrl; docs/reliability.md)
  hitl suggest [--config <file.json>] [--out <file.json>] [--min-decisions <n>] [--sample-rate <0..1>] [--json]
                                                  rule changes with their evidence, written as a config for whatif

Request options:
  --group <name>            reviewer group (default: the local stack's first group; a policy rule's group wins)
  --irreversible            the action cannot be undone (default: reversible)
  --context <text>          short context for the reviewer
  --plan <n>/<total>        plan step, e.g. 3/4
  --ttl <seconds>           time box before the fallback applies
  --fallback <policy>       deny | approve | escalate | hold (default deny)
  --confidence <0..1>       the agent's confidence
  --idempotency-key <key>   same agent + key → same request and decision
  --requested-by <email>    the person the agent acts for (they may not decide it)
  --respondent <user-id>    ask this app user in the host app (in-app answers) instead of a reviewer group
  --name <execution-name>   Step Functions execution name
  --wait                    wait for the Decision and print it (exit 0 whatever the outcome)
  --timeout <seconds>       give up waiting after this long (default: no limit)

Report and export options:
  --since <age | ISO>       window start: 30m, 24h, 7d, 2w or a timestamp (default 7d)
  --until <ISO>             window end (default now)
  --agent <name>            only this agent's decisions
  --action <type>           only this action type: approval#refund, verification#email, disambiguation, …
  --all                     export every decision made by a person, not only the disagreements
                            (whatif and suggest read the last 30 days by default)

Policy options:
  --policy <file.json>      whatif: a deployment config (as cdk.json's context.hitl) with the proposed policy
  --config <file.json>      suggest: the current deployment config (default: what ./cdk.json names)
  --out <file.json>         suggest: where to write the proposal (default ${SUGGESTED_FILE})
  --min-decisions <n>       suggest: reviews needed before near-total approval counts (default 100)
  --sample-rate <0..1>      suggest: sample of a loosened gate (default 0.1)

SQL options:
  --named <name>            run a saved query (the same SQL as the Athena named query hitl-<name>)
  --show                    with --named: print its SQL instead of running it
  --since, --until          the window of a saved query, or of the two ? parameters of your own, as whole
                            UTC days (default the last 7 days, today included)
  --data <dir>              query Parquet files in an S3-style export directory (day=YYYY-MM-DD/…) instead
                            of the local stack's tables
  --refresh                 reread every decision from the local stack's tables
  --csv                     CSV instead of a table

Where:
  --state-dir <dir>         local stack state (default .hitl); its local.json has the endpoints
  --state-machine-arn <arn> use this state machine in AWS instead (region and credentials from the usual AWS config)
  --region <region>         AWS region with --state-machine-arn or the table names
  --requests-table <name>   with --decisions-table: report on these tables in AWS instead (the stack outputs
  --decisions-table <name>  RequestsTableName and DecisionLogTableName)
  --json                    machine-readable output
`;

const OPTIONS = {
  agent: { type: 'string' },
  action: { type: 'string' },
  args: { type: 'string' },
  reason: { type: 'string' },
  risk: { type: 'string' },
  irreversible: { type: 'boolean' },
  kind: { type: 'string' },
  group: { type: 'string' },
  context: { type: 'string' },
  plan: { type: 'string' },
  ttl: { type: 'string' },
  fallback: { type: 'string' },
  confidence: { type: 'string' },
  'idempotency-key': { type: 'string' },
  'requested-by': { type: 'string' },
  respondent: { type: 'string' },
  user: { type: 'string' },
  email: { type: 'string' },
  name: { type: 'string' },
  input: { type: 'string' },
  wait: { type: 'boolean' },
  timeout: { type: 'string' },
  status: { type: 'string' },
  max: { type: 'string' },
  'state-dir': { type: 'string' },
  'state-machine-arn': { type: 'string' },
  region: { type: 'string' },
  json: { type: 'boolean' },
  since: { type: 'string' },
  until: { type: 'string' },
  all: { type: 'boolean' },
  'requests-table': { type: 'string' },
  'decisions-table': { type: 'string' },
  named: { type: 'string' },
  list: { type: 'boolean' },
  show: { type: 'boolean' },
  data: { type: 'string' },
  refresh: { type: 'boolean' },
  csv: { type: 'boolean' },
  policy: { type: 'string' },
  config: { type: 'string' },
  out: { type: 'string' },
  'min-decisions': { type: 'string' },
  'sample-rate': { type: 'string' },
  'queue-url': { type: 'string' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} satisfies ParseArgsConfig['options'];

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const defaultIo: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

interface Target {
  sfn: SFNClient;
  stateMachineArn: string;
  local?: EndpointsFile;
}

function target(values: Values): Target {
  const stateDir = resolve(values['state-dir'] ?? '.hitl');
  const arn = values['state-machine-arn'];
  if (arn && !values['state-dir']) {
    let local: EndpointsFile | undefined;
    try {
      local = readEndpointsFile(stateDir);
    } catch {
      local = undefined;
    }
    if (local?.stateMachineArn !== arn) return { sfn: new SFNClient(values.region ? { region: values.region } : {}), stateMachineArn: arn };
  }
  const local = readEndpointsFile(stateDir);
  return {
    sfn: new SFNClient({ endpoint: local.endpoints.sfn, region: local.region, credentials: local.credentials }),
    stateMachineArn: arn ?? local.stateMachineArn,
    local,
  };
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`${flag} must be a number, got "${value}"`);
  return n;
}

function readInput(path: string): unknown {
  const text = path === '-' ? readFileSync(0, 'utf8') : readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path === '-' ? 'stdin' : path} is not JSON: ${(err as Error).message}`);
  }
}

/** The ReviewRequest the flags describe, validated with the shared schema. */
export function requestFromFlags(values: Values, defaultGroup: string | undefined): ReviewRequest {
  if (values.input) return parseReviewRequest(readInput(values.input));
  const kind = values.kind ?? 'approval';
  if (kind !== 'approval') throw new UsageError(`Flags describe approval requests; for a ${KINDS.includes(kind as never) ? kind : `"${kind}"`} request pass --input <file.json>`);
  for (const flag of ['agent', 'action', 'reason', 'risk'] as const) if (!values[flag]) throw new UsageError(`--${flag} is required`);
  let args: unknown = {};
  if (values.args !== undefined) {
    try {
      args = JSON.parse(values.args);
    } catch (err) {
      throw new UsageError(`--args is not JSON: ${(err as Error).message}`);
    }
  }
  let planStep: { current: number; total: number } | undefined;
  if (values.plan !== undefined) {
    const m = /^(\d+)\/(\d+)$/.exec(values.plan);
    if (!m) throw new UsageError(`--plan takes <step>/<total>, e.g. 3/4; got "${values.plan}"`);
    planStep = { current: Number(m[1]), total: Number(m[2]) };
  }
  const respondent = values.respondent === undefined ? undefined : { id: values.respondent };
  const group = respondent ? values.group : (values.group ?? defaultGroup);
  if (!group && !respondent) throw new UsageError('--group is required (the reviewer group from the deployment config), or --respondent for an in-app answer');
  if (values.fallback !== undefined && !FallbackPolicy.safeParse(values.fallback).success) {
    throw new UsageError(`--fallback must be one of ${FallbackPolicy.options.join(', ')}`);
  }
  return parseReviewRequest({
    kind: 'approval',
    agent: values.agent,
    action: { name: values.action, args },
    reason: values.reason,
    planStep,
    context: values.context,
    risk: { class: values.risk, reversible: !values.irreversible },
    confidence: number(values.confidence, '--confidence'),
    reviewerGroup: group,
    respondent,
    ttlSeconds: number(values.ttl, '--ttl'),
    fallback: values.fallback,
    idempotencyKey: values['idempotency-key'],
    requestedBy: values['requested-by'],
  });
}

async function waitForDecision(t: Target, executionArn: string, timeoutSeconds: number | undefined, io: Io): Promise<DescribeExecutionCommandOutput> {
  const deadline = timeoutSeconds === undefined ? Infinity : Date.now() + timeoutSeconds * 1000;
  const where = t.local ? ` (emails: ${t.local.endpoints.mailViewer})` : '';
  io.err(`waiting for a decision${where}…`);
  for (;;) {
    const out = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING') return out;
    if (Date.now() > deadline) throw new UsageError(`No decision within ${timeoutSeconds} s; the request is still open: hitl status ${executionArn}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function report(out: DescribeExecutionCommandOutput, values: Values, io: Io): number {
  if (values.json) {
    io.out(printableJson({ executionArn: out.executionArn, status: out.status, decision: out.output ? JSON.parse(out.output) : undefined, error: out.error, cause: out.cause }, 2));
  } else if (out.status === 'SUCCEEDED') {
    const decision = JSON.parse(out.output ?? 'null') as Decision;
    io.err(`decision: ${summarizeDecision(decision)}`);
    io.out(printableJson(decision, 2));
  } else {
    io.out(`${out.status}${out.error ? ` ${out.error}` : ''}${out.cause ? `: ${out.cause}` : ''}`);
  }
  return out.status === 'SUCCEEDED' || out.status === 'RUNNING' ? 0 : 1;
}

async function request(values: Values, io: Io): Promise<number> {
  const t = target(values);
  const review = requestFromFlags(values, t.local?.reviewerGroups[0]);
  const started = await t.sfn.send(new StartExecutionCommand({ stateMachineArn: t.stateMachineArn, name: values.name, input: JSON.stringify(review) }));
  if (!values.wait) {
    io.out(values.json ? printableJson({ executionArn: started.executionArn }) : started.executionArn!);
    return 0;
  }
  io.err(`started ${started.executionArn}`);
  return report(await waitForDecision(t, started.executionArn!, number(values.timeout, '--timeout'), io), values, io);
}

async function status(values: Values, positionals: string[], io: Io): Promise<number> {
  const executionArn = positionals[0];
  if (!executionArn) throw new UsageError('hitl status <execution-arn>');
  const t = target(values);
  const out = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
  if (!values.json && out.status === 'RUNNING') io.err(`RUNNING since ${out.startDate?.toISOString()}: waiting for a reviewer`);
  return report(out, values, io);
}

/**
 * StopExecution: the execution ends ABORTED and the status-change rule cancels its pending request (its
 * links then say so and cannot decide). A request already decided keeps its decision.
 */
async function cancel(values: Values, positionals: string[], io: Io): Promise<number> {
  const executionArn = positionals[0];
  if (!executionArn) throw new UsageError('hitl cancel <execution-arn> [--reason <text>]');
  const t = target(values);
  await t.sfn.send(new StopExecutionCommand({ executionArn, error: 'AgentCancelled', cause: values.reason ?? 'cancelled with hitl cancel' }));
  const out = await t.sfn.send(new DescribeExecutionCommand({ executionArn }));
  io.err(`${out.status}: the pending request is cancelled (if nobody had decided yet)`);
  io.out(values.json ? printableJson({ executionArn, status: out.status }) : executionArn);
  return 0;
}

async function list(values: Values, io: Io): Promise<number> {
  const t = target(values);
  const max = number(values.max, '--max') ?? 20;
  const out = await t.sfn.send(new ListExecutionsCommand({ stateMachineArn: t.stateMachineArn, statusFilter: values.status as ExecutionStatus | undefined, maxResults: max }));
  const rows = await Promise.all(
    (out.executions ?? []).map(async (e) => {
      let outcome = '';
      if (e.status === 'SUCCEEDED') {
        const d = await t.sfn.send(new DescribeExecutionCommand({ executionArn: e.executionArn }));
        outcome = (JSON.parse(d.output ?? '{}') as Partial<Decision>).outcome ?? '';
      }
      return { name: e.name!, status: e.status!, startDate: e.startDate?.toISOString() ?? '', outcome, executionArn: e.executionArn! };
    }),
  );
  if (values.json) {
    io.out(printableJson(rows, 2));
    return 0;
  }
  if (rows.length === 0) io.err('no executions');
  for (const r of rows) io.out(neutralize(`${r.startDate}  ${r.status.padEnd(9)}  ${r.outcome.padEnd(9)}  ${r.executionArn}`));
  return 0;
}

async function demo(values: Values, io: Io): Promise<number> {
  const t = target(values);
  if (!t.local) throw new UsageError('hitl demo runs against the local stack');
  const decision = await runDemoAgent({ sfn: t.sfn, stateMachineArn: t.stateMachineArn, mailViewerUrl: t.local.endpoints.mailViewer, print: io.err });
  if (decision) io.out(printableJson(decision, 2));
  return 0;
}

/** `hitl token --user alice`: a JWT the local in-app API accepts for that user (development only). */
async function token(values: Values, io: Io): Promise<number> {
  if (!values.user) throw new UsageError('hitl token --user <id>: the user id (JWT sub) the token is for');
  const local = readEndpointsFile(resolve(values['state-dir'] ?? '.hitl'));
  if (!local.inApp) throw new UsageError('The local stack has no in-app API: enable it with "inApp" in the deployment config (docs/in-app.md)');
  const keys = await ensureIssuerKeys(dirname(local.inApp.keyFile));
  const ttlSeconds = number(values.ttl, '--ttl');
  io.out(await mintToken(keys, { issuer: local.inApp.issuer, audience: local.inApp.audience, sub: values.user, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}), ...(values.email ? { email: values.email } : {}) }));
  return 0;
}

function env(values: Values, io: Io): number {
  const local = readEndpointsFile(resolve(values['state-dir'] ?? '.hitl'));
  for (const [k, v] of Object.entries(local.env)) io.out(`export ${k}=${v}`);
  io.out(`export HITL_STATE_MACHINE_ARN=${local.stateMachineArn}`);
  return 0;
}

/** The local stack's webhook signing secret, read the way an agent on AWS reads it: GetSecretValue. */
async function webhookSecret(values: Values, io: Io): Promise<number> {
  const local = readEndpointsFile(resolve(values['state-dir'] ?? '.hitl'));
  if (!local.webhookSecretId) throw new ConfigError('Decision webhooks are off in the local stack: its config has no webhooks.allowedHosts (start it with --config naming a file that lists e.g. "127.0.0.1")');
  const client = new SecretsManagerClient({ endpoint: local.endpoints.secretsManager, region: local.region, credentials: local.credentials });
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: local.webhookSecretId }));
    io.out(out.SecretString ?? '');
  } finally {
    client.destroy();
  }
  return 0;
}

/** Dead-letter files of the local stack: what its Scheduler and bus gave up delivering. */
const LOCAL_DEAD_LETTER_FILES = ['schedule-dlq.json', 'event-dlq.jsonl'];

/** `hitl redrive --queue-url …`: the dead letters of a deployed stack back to their functions (local/redrive.ts). */
async function redriveCommand(values: Values, io: Io): Promise<number> {
  const queueUrl = values['queue-url'];
  if (!queueUrl) {
    const stateDir = resolve(values['state-dir'] ?? '.hitl');
    const held = LOCAL_DEAD_LETTER_FILES.map((f) => join(stateDir, f)).filter((f) => existsSync(f) && readFileSync(f, 'utf8').trim() !== '' && readFileSync(f, 'utf8').trim() !== '[]');
    throw new UsageError(
      `hitl redrive --queue-url <url>: the dead-letter queue of a deployed stack (stack output DeadLetterQueueUrl). The local stack has no SQS: it keeps failed deliveries in ${LOCAL_DEAD_LETTER_FILES.join(' and ')} under ${stateDir}${held.length ? ` (now: ${held.join(', ')})` : ' (none now)'}; fix the cause and run the request again.`,
    );
  }
  const config = values.region ? { region: values.region } : {};
  const sqs = new SQSClient(config);
  const lambda = new LambdaClient(config);
  try {
    const result = await redrive({ sqs, lambda, queueUrl, max: number(values.max, '--max'), dryRun: values['dry-run'], log: io.err });
    io.out(values.json ? printableJson(result) : `${values['dry-run'] ? 'would redrive' : 'redriven'} ${result.redriven}, left ${result.skipped}, failed ${result.failed}`);
    return result.failed > 0 ? 1 : 0;
  } finally {
    sqs.destroy();
    lambda.destroy();
  }
}

const AGE = /^(\d+)(m|h|d|w)$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const AGE_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 } as const;

function timestamp(value: string, flag: string): Date {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${flag} takes an ISO timestamp${flag === '--since' ? ' or an age such as 7d' : ''}, got "${value}"`);
  return new Date(t);
}

/** The report window from --since (an age or a timestamp, default 7d) and --until (default now). */
export function reportWindow(since: string | undefined, until: string | undefined, now: Date): TimeWindow {
  // A day alone as --until means the whole of that day, as in hitl sql.
  const to = until === undefined ? now : DAY.test(until) ? new Date(`${until}T23:59:59.999Z`) : timestamp(until, '--until');
  const age = AGE.exec(since ?? '7d');
  const from = age ? new Date(to.getTime() - Number(age[1]) * AGE_MS[age[2] as keyof typeof AGE_MS]) : timestamp(since!, '--since');
  if (from > to) throw new UsageError(`--since (${from.toISOString()}) is after --until (${to.toISOString()})`);
  return { from: from.toISOString(), to: to.toISOString() };
}

function actionTypeFlag(value: string | undefined): string | undefined {
  if (value === undefined || value.includes('#') || KINDS.includes(value as never)) return value;
  throw new UsageError(`--action takes an action type as stored: approval#${value}, verification#email, or a kind alone (${KINDS.join(', ')})`);
}

/** The decision tables: the local stack's, or with both table names the ones in AWS (usual SDK config). */
function decisionSource(values: Values): DecisionSource & { dynamodb: DynamoDBClient; close(): void } {
  const requestsTable = values['requests-table'];
  const decisionsTable = values['decisions-table'];
  let dynamodb: DynamoDBClient;
  let tables: { requests: string; decisions: string };
  let config: DeploymentConfig | undefined;
  if ((requestsTable || decisionsTable) && !values['state-dir']) {
    if (!requestsTable || !decisionsTable) throw new UsageError('--requests-table and --decisions-table go together (stack outputs RequestsTableName and DecisionLogTableName)');
    dynamodb = new DynamoDBClient(values.region ? { region: values.region } : {});
    tables = { requests: requestsTable, decisions: decisionsTable };
  } else {
    const local = readEndpointsFile(resolve(values['state-dir'] ?? '.hitl'));
    dynamodb = new DynamoDBClient({ endpoint: local.endpoints.dynamodb, region: local.region, credentials: local.credentials });
    tables = { requests: requestsTable ?? local.tables.requests, decisions: decisionsTable ?? local.tables.decisions };
    config = localConfig(local);
  }
  return {
    log: new DecisionLog(documentClient(dynamodb), tables.decisions),
    requestsTable: tables.requests,
    ...(config ? { config } : {}),
    dynamodb,
    close: () => dynamodb.destroy(),
  };
}

/** The deployment config the local stack's functions run with, if it records one that parses. */
function localConfig(local: EndpointsFile): DeploymentConfig | undefined {
  try {
    return local.config === undefined ? undefined : parseDeploymentConfig(local.config);
  } catch {
    return undefined;
  }
}

async function withDecisions<T>(values: Values, read: (source: DecisionSource, query: DecisionQuery) => Promise<T>, defaultSince?: string): Promise<T> {
  const window = reportWindow(values.since ?? defaultSince, values.until, new Date());
  const query: DecisionQuery = { window, agent: values.agent, actionType: actionTypeFlag(values.action) };
  const source = decisionSource(values);
  try {
    return await read(source, query);
  } finally {
    source.close();
  }
}

async function reportCommand(values: Values, io: Io): Promise<number> {
  const result = await withDecisions(values, async (source, query) => buildReport(await fetchDecisions(source, query), new Date(), { window: query.window }));
  io.out(values.json ? printableJson(result, 2) : formatReport(result));
  return 0;
}

async function exportCommand(values: Values, io: Io): Promise<number> {
  const { cases, humanDecisions, missingRequests } = await withDecisions(values, async (source, query) =>
    evalCases(await fetchDecisions(source, query, { withRequest: true }), { all: values.all }),
  );
  for (const c of cases) io.out(printableJson(c));
  const which = values.all ? '' : ' (disagreements only; --all for every one)';
  const missing = missingRequests ? `; ${missingRequests} left out, their request rows are gone` : '';
  io.err(`${cases.length} eval case${cases.length === 1 ? '' : 's'} from ${humanDecisions} decision${humanDecisions === 1 ? '' : 's'} by people${which}${missing}`);
  return 0;
}

/** The window of a saved query as whole UTC days: --since (an age, a day or a timestamp; default 7d), --until (default today). */
export function dayWindow(since: string | undefined, until: string | undefined, now: Date): { from: string; to: string } {
  const w = reportWindow(since ?? '6d', until, now);
  return { from: w.from.slice(0, 10), to: w.to.slice(0, 10) };
}

function listNamedQueries(io: Io): number {
  const width = Math.max(...NAMED_QUERIES.map((q) => q.name.length));
  for (const q of NAMED_QUERIES) io.out(`${q.name.padEnd(width)}  ${q.description}`);
  return 0;
}

/** DuckDB loads only for `hitl sql`. */
const sqlModule = () => import('./sql.ts');

async function openDecisions(values: Values, io: Io): Promise<DecisionDatabase> {
  const { DecisionDatabase, syncFromTables } = await sqlModule();
  if (values.data) return DecisionDatabase.openExport(resolve(values.data));
  if (values['requests-table'] || values['decisions-table']) {
    throw new UsageError('hitl sql reads the local stack, or with --data an export directory; for a deployed stack run the same SQL in Athena (workgroup in the stack output AnalyticsWorkGroup), or `aws s3 sync` the decisions prefix and use --data');
  }
  const stateDir = resolve(values['state-dir'] ?? '.hitl');
  const source = decisionSource(values);
  const db = await DecisionDatabase.open(join(stateDir, 'analytics', 'decisions.duckdb'));
  try {
    const synced = await syncFromTables(
      db,
      { dynamodb: source.dynamodb, doc: source.log.doc, requestsTable: source.requestsTable, decisionsTable: source.log.tableName, ...(source.config ? { config: source.config } : {}) },
      { full: values.refresh === true },
    );
    if (synced.full || synced.read > 0) io.err(`${synced.full ? 'read' : 'read up to'} ${synced.read} decision${synced.read === 1 ? '' : 's'} from the local stack (${synced.total} in all)`);
    return db;
  } catch (err) {
    db.close();
    throw err;
  } finally {
    source.close();
  }
}

async function sqlCommand(values: Values, positionals: string[], io: Io): Promise<number> {
  if (values.list) return listNamedQueries(io);
  if (values.json && values.csv) throw new UsageError('--json and --csv: choose one');
  const named = values.named === undefined ? undefined : namedQuery(values.named);
  if (values.named !== undefined && !named) throw new UsageError(`No saved query "${values.named}"; hitl sql --list names them: ${NAMED_QUERIES.map((q) => q.name).join(', ')}`);
  if (named && positionals.length > 0) throw new UsageError('Give a query or --named <name>, not both');
  if (values.show) {
    if (!named) throw new UsageError('--show goes with --named <name>');
    io.out(named.sql);
    return 0;
  }
  const sql = named?.sql ?? positionals.join(' ');
  if (!sql.trim()) throw new UsageError('hitl sql "<query>" or hitl sql --named <name> (hitl sql --list names the saved queries)');
  const days = dayWindow(values.since, values.until, new Date());
  const { formatCsv, formatTable } = await sqlModule();
  const db = await openDecisions(values, io);
  try {
    const params = (await db.parameterCount(sql)) === 2 ? [days.from, days.to] : [];
    const result = await db.query(sql, params);
    if (values.json) io.out(JSON.stringify(result.rows, null, 2));
    else if (values.csv) io.out(formatCsv(result));
    else io.out(formatTable(result));
    return 0;
  } finally {
    db.close();
  }
}

/** `hitl sql` with the wrong number of values for its ? parameters (by name: the module loads lazily). */
function isSqlParameterError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'SqlParameterError';
}

/** Decisions with their requests, over the last 30 days unless --since says otherwise. */
function policyDecisions(values: Values): ReadDecisions {
  return () => withDecisions(values, (source, query) => fetchDecisions(source, query, { withRequest: true }), '30d');
}

function rate(value: string | undefined, flag: string): number | undefined {
  const n = number(value, flag);
  if (n !== undefined && (n < 0 || n > 1)) throw new UsageError(`${flag} takes a fraction from 0 to 1, got "${value}"`);
  return n;
}

function describeFailure(err: unknown): string {
  if (err instanceof InvalidRequestError || err instanceof UsageError || err instanceof NoLocalStackError || err instanceof ConfigError || isSqlParameterError(err)) return err.message;
  if (err instanceof Error && /^(Parser|Binder|Catalog|Conversion|Invalid Input|IO) Error/.test(err.message)) return err.message;
  const e = err as Error & { code?: string; cause?: { code?: string } };
  if (e.code === 'ECONNREFUSED' || e.cause?.code === 'ECONNREFUSED' || e.name === 'TimeoutError') {
    return 'The local stack is not answering; is `npm start` running? (For a deployed stack: --state-machine-arn for request/status/list, --requests-table and --decisions-table for report/export.)';
  }
  return `${e.name}: ${e.message}`;
}

/**
 * Everything printed passes the shared neutraliser, so text from agents, reviewers or AWS errors cannot
 * move the cursor, recolour, clear the terminal or reorder a line. JSON is printed with printableJson,
 * which keeps the data exact.
 */
function inert(io: Io): Io {
  return { out: (text) => io.out(neutralize(text, { multiline: true })), err: (text) => io.err(neutralize(text, { multiline: true })) };
}

/** Runs the CLI; resolves with the exit code. */
export async function main(argv: string[], terminal: Io = defaultIo): Promise<number> {
  const io = inert(terminal);
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  try {
    switch (command) {
      case 'request':
        return await request(values, io);
      case 'status':
        return await status(values, rest, io);
      case 'cancel':
        return await cancel(values, rest, io);
      case 'list':
        return await list(values, io);
      case 'demo':
        return await demo(values, io);
      case 'env':
        return env(values, io);
      case 'redrive':
        return await redriveCommand(values, io);
      case 'webhook-secret':
        return await webhookSecret(values, io);
      case 'token':
        return await token(values, io);
      case 'report':
        return await reportCommand(values, io);
      case 'export':
        return await exportCommand(values, io);
      case 'sql':
        return await sqlCommand(values, rest, io);
      case 'whatif':
        return await whatifCommand({ policy: values.policy, json: values.json }, policyDecisions(values), io);
      case 'suggest': {
        const minDecisions = number(values['min-decisions'], '--min-decisions');
        if (minDecisions !== undefined && (!Number.isInteger(minDecisions) || minDecisions < 1)) throw new UsageError('--min-decisions takes a whole number of at least 1');
        const options = { config: values.config, out: values.out, minDecisions, sampleRate: rate(values['sample-rate'], '--sample-rate'), json: values.json };
        return await suggestCommand(options, policyDecisions(values), io);
      }
      default:
        throw new UsageError(`Unknown command "${command}"\n\n${USAGE}`);
    }
  } catch (err) {
    io.err(describeFailure(err));
    return err instanceof UsageError || err instanceof InvalidRequestError || isSqlParameterError(err) ? 2 : 1;
    return err instanceof UsageError || err instanceof InvalidRequestError || err instanceof ConfigError ? 2 : 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
