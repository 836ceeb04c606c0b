/**
 * Load test: open review requests at a fixed rate, wait until each waits for its reviewer, then approve them
 * all through the respond endpoint with signed links, and report the rates, latencies and every error by name
 * (throttling shows up here first). Runs against a deployed stack or, with `--local`, a local stack in a
 * temporary directory. Not part of CI; every run is bounded by `--count` and `--duration`.
 *
 *   npx cdk deploy --outputs-file outputs.json
 *   npx tsx local/bench/load.ts --stack-outputs outputs.json --count 500 --rate 20 [--concurrency 16] [--json load.json]
 *   npx tsx local/bench/load.ts --local --count 300 --rate 50
 *
 * Against AWS it needs the operator's credentials: StartExecution and DescribeExecution on the state
 * machine, Query on the requests table, GetSecretValue on the signing secret (it signs the reviewer's links
 * itself, as the request function does). It approves as `--reviewer`, a tier-1 member of the request's
 * group; the emails still go out, so point the config's reviewers at addresses you own (or the SES mailbox
 * simulator) before a large run.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeExecutionCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#shared/clients.ts';
import { parseKeyRing, reviewUrl, type KeyRing } from '#shared/signing.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { RequestStore } from '#shared/store/requests.ts';
import { DEMO_REQUEST } from '../demo-agent.ts';
import { REPO_ROOT, startLocalStack, type LocalStack } from '../stack.ts';
import { runPool, summarize, timed, type LatencySummary } from './stats.ts';
import { REVIEWER, submitChoice } from './workload.ts';

const USAGE = `Usage: tsx local/bench/load.ts (--stack-outputs <cdk outputs.json> [--stack <name>] | --local)
  [--count 100] [--rate 10] [--duration 300] [--concurrency 8] [--reviewer ${REVIEWER}] [--request <ReviewRequest.json>] [--json <file>]`;
const MAX_COUNT = 10_000;

interface Target {
  sfn: SFNClient;
  doc: DynamoDBDocumentClient;
  stateMachineArn: string;
  requestsTable: string;
  baseUrl: string;
  keyRing: () => Promise<KeyRing>;
  stop: () => Promise<void>;
}

interface LoadReport {
  at: string;
  target: 'aws' | 'local';
  machine: { cpus: number; loadAtStart: number; loadAtEnd: number };
  settings: { count: number; rate: number; duration: number; concurrency: number };
  started: { count: number; perSecond: number; latencyMs: LatencySummary };
  /** StartExecution until the request is PENDING with its reviewers notified. */
  open: { count: number; latencyMs: LatencySummary; missing: number };
  decided: { count: number; perSecond: number; latencyMs: LatencySummary; statuses: Record<string, number> };
  succeeded: { count: number; other: Record<string, number> };
  errors: Record<string, number>;
}

function whole(name: string, text: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`--${name} must be a whole number from 1 to ${max}, got "${text}"\n${USAGE}`);
  return n;
}

/** `cdk deploy --outputs-file` writes `{ "<stack>": { "StateMachineArn": …, … } }`. */
function awsTarget(file: string, stackName: string | undefined): Target {
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  const name = stackName ?? Object.keys(all).find((k) => all[k]?.StateMachineArn);
  const outputs = name ? all[name] : undefined;
  const need = ['StateMachineArn', 'ReviewApiUrl', 'RequestsTableName', 'SigningSecretArn'] as const;
  const missing = need.filter((k) => !outputs?.[k]);
  if (!outputs || missing.length) throw new Error(`${file}${name ? ` (stack ${name})` : ''} lacks ${missing.join(', ') || 'a stack with StateMachineArn'}; write it with \`npx cdk deploy --outputs-file ${file}\``);
  const region = outputs.StateMachineArn!.split(':')[3];
  const secrets = new SecretsManagerClient({ region });
  return {
    sfn: new SFNClient({ region }),
    doc: documentClient(new DynamoDBClient({ region })),
    stateMachineArn: outputs.StateMachineArn!,
    requestsTable: outputs.RequestsTableName!,
    baseUrl: outputs.ReviewApiUrl!,
    keyRing: async () => {
      const out = await secrets.send(new GetSecretValueCommand({ SecretId: outputs.SigningSecretArn }));
      return parseKeyRing(out.SecretString ?? '');
    },
    stop: async () => undefined,
  };
}

async function localTarget(progress: (line: string) => void): Promise<Target> {
  const stateDir = mkdtempSync(join(tmpdir(), 'hitl-load-'));
  const zero = { respond: 0, ses: 0, sfn: 0, scheduler: 0, dynamodb: 0, secretsManager: 0, events: 0 };
  const stack: LocalStack = await startLocalStack({
    stateDir,
    ports: zero,
    cdkOutDir: join(REPO_ROOT, 'node_modules', '.cache', 'hitl-local', 'cdk.out-bench'),
    functionLogLevel: 'ERROR',
    log: (line) => (/^execution \S+ SUCCEEDED$/.test(line) ? undefined : progress(`  stack: ${line}`)),
  });
  return {
    sfn: stack.clients.sfn,
    doc: stack.clients.doc,
    stateMachineArn: stack.stateMachineArn,
    requestsTable: stack.tables.requests,
    baseUrl: stack.endpoints.respond,
    keyRing: async () => parseKeyRing(readFileSync(stack.signingKeyFile, 'utf8')),
    stop: async () => {
      await stack.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** The group's notified PENDING rows, by execution ARN. */
async function openRows(target: Target, group: string): Promise<Map<string, StoredRequest>> {
  // The shipped shard count; a deployment with another `pendingShards` lists only the rows on these shards.
  const rows = (await new RequestStore(target.doc, target.requestsTable).pendingByGroup(group)).filter((row) => row.notifiedRound !== undefined);
  return new Map(rows.map((row) => [row.executionArn, row]));
}

const errorName = (err: unknown) => (err as { name?: string })?.name ?? 'Error';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'stack-outputs': { type: 'string' },
      stack: { type: 'string' },
      local: { type: 'boolean', default: false },
      count: { type: 'string', default: '100' },
      rate: { type: 'string', default: '10' },
      duration: { type: 'string', default: '300' },
      concurrency: { type: 'string', default: '8' },
      reviewer: { type: 'string', default: REVIEWER },
      request: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return console.log(USAGE);
  if (!values.local === !values['stack-outputs']) throw new Error(`Give either --stack-outputs <file> or --local\n${USAGE}`);
  const count = whole('count', values.count, MAX_COUNT);
  const rate = whole('rate', values.rate, 10_000);
  const duration = whole('duration', values.duration, 3600);
  const concurrency = whole('concurrency', values.concurrency, 1000);
  const request = values.request ? (JSON.parse(readFileSync(values.request, 'utf8')) as typeof DEMO_REQUEST) : DEMO_REQUEST;
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const deadline = Date.now() + duration * 1000;
  const errors: Record<string, number> = {};
  const fail = (err: unknown) => void (errors[errorName(err)] = (errors[errorName(err)] ?? 0) + 1);
  const loadAtStart = loadavg()[0]!;

  const target = values.local ? await localTarget(progress) : awsTarget(values['stack-outputs']!, values.stack);
  try {
    // 1. Start executions at `rate` per second, each named so a rerun never collides.
    progress(`starting ${count} executions at ${rate}/s…`);
    const runId = `load-${Date.now().toString(36)}`;
    const startedAt = new Map<string, number>();
    const startLatency: number[] = [];
    const t0 = performance.now();
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < count && Date.now() < deadline; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      inFlight.push(
        timed(() => target.sfn.send(new StartExecutionCommand({ stateMachineArn: target.stateMachineArn, name: `${runId}-${i}`, input: JSON.stringify(request) })))
          .then(({ value, ms }) => {
            startLatency.push(ms);
            if (value.executionArn) startedAt.set(value.executionArn, performance.now() - ms);
          })
          .catch(fail),
      );
    }
    await Promise.all(inFlight);
    const startSeconds = (performance.now() - t0) / 1000;

    // 2. Wait until each waits for its reviewer (the row is PENDING and notified).
    progress(`waiting for ${startedAt.size} requests to be open…`);
    const openAt = new Map<string, number>();
    let rows = new Map<string, StoredRequest>();
    while (openAt.size < startedAt.size && Date.now() < deadline) {
      rows = await openRows(target, request.reviewerGroup ?? DEMO_REQUEST.reviewerGroup!);
      const now = performance.now();
      for (const arn of rows.keys()) if (startedAt.has(arn) && !openAt.has(arn)) openAt.set(arn, now - startedAt.get(arn)!);
      if (openAt.size < startedAt.size) await new Promise((r) => setTimeout(r, 500));
    }

    // 3. Approve each through the respond endpoint, `concurrency` at a time.
    const ring = await target.keyRing();
    const toDecide = [...openAt.keys()].map((arn) => rows.get(arn)!).filter(Boolean);
    progress(`approving ${toDecide.length} as ${values.reviewer}, ${concurrency} at a time…`);
    const statuses: Record<string, number> = {};
    const decideLatency: number[] = [];
    const d0 = performance.now();
    await runPool(toDecide, concurrency, async (row) => {
      if (Date.now() > deadline) return;
      const link = reviewUrl(target.baseUrl, { requestId: row.requestId, approver: values.reviewer, expiresAt: Math.ceil(Date.parse(row.expiresAt) / 1000) }, ring);
      try {
        const { value: status, ms } = await timed(() => submitChoice(link, { choice: 'approve', round: String(row.round) }));
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status === 200) decideLatency.push(ms);
      } catch (err) {
        fail(err);
      }
    });
    const decideSeconds = (performance.now() - d0) / 1000;

    // 4. Every approved execution should end SUCCEEDED.
    progress('checking the executions ended…');
    const other: Record<string, number> = {};
    let succeeded = 0;
    await runPool(toDecide, Math.min(concurrency, 8), async (row) => {
      for (let attempt = 0; ; attempt++) {
        const out = await target.sfn.send(new DescribeExecutionCommand({ executionArn: row.executionArn })).catch((err: unknown) => (fail(err), undefined));
        const status = out?.status ?? 'UNKNOWN';
        if (status === 'SUCCEEDED') return void succeeded++;
        if (status !== 'RUNNING' || attempt >= 20 || Date.now() > deadline + 60_000) return void (other[status] = (other[status] ?? 0) + 1);
        await new Promise((r) => setTimeout(r, 500));
      }
    });

    const report: LoadReport = {
      at: new Date().toISOString(),
      target: values.local ? 'local' : 'aws',
      machine: { cpus: cpus().length, loadAtStart, loadAtEnd: loadavg()[0]! },
      settings: { count, rate, duration, concurrency },
      started: { count: startedAt.size, perSecond: startedAt.size / startSeconds, latencyMs: summarize(startLatency) },
      open: { count: openAt.size, latencyMs: summarize([...openAt.values()]), missing: startedAt.size - openAt.size },
      decided: { count: decideLatency.length, perSecond: decideLatency.length / decideSeconds, latencyMs: summarize(decideLatency), statuses },
      succeeded: { count: succeeded, other },
      errors,
    };
    const f = (s: LatencySummary) => `p50 ${s.p50.toFixed(0)} ms, p99 ${s.p99.toFixed(0)} ms, max ${s.max.toFixed(0)} ms`;
    console.log(
      [
        `load test on ${report.target}, ${report.at}: ${report.machine.cpus} CPUs, load ${loadAtStart.toFixed(2)} → ${report.machine.loadAtEnd.toFixed(2)}`,
        `started   ${report.started.count}/${count} at ${report.started.perSecond.toFixed(1)}/s (StartExecution ${f(report.started.latencyMs)})`,
        `open      ${report.open.count} (start → PENDING and notified: ${f(report.open.latencyMs)}); ${report.open.missing} never opened`,
        `approved  ${report.decided.count} at ${report.decided.perSecond.toFixed(1)}/s (POST ${f(report.decided.latencyMs)}); statuses ${JSON.stringify(statuses)}`,
        `succeeded ${succeeded}; other ${JSON.stringify(other)}`,
        `errors    ${JSON.stringify(errors)}`,
      ].join('\n'),
    );
    if (values.json) writeFileSync(values.json, `${JSON.stringify(report, null, 2)}\n`);
    if (report.open.missing || succeeded !== toDecide.length || Object.keys(errors).length) process.exitCode = 1;
  } finally {
    await target.stop();
  }
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
