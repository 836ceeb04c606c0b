/**
 * `npm run bench`: figures for docs/benchmarks.md, measured on the local stack in a temporary directory.
 *
 *   npm run bench -- --pending 1000 --floor 200 --concurrency 8 [--fsync] --json bench.json
 *
 * 1. Handler bundles from a real `cdk synth`: size and module init beside an empty handler, and the same
 *    handlers with the runtime's SDK instead of a bundled one.
 * 2. One approval with every AWS call counted, turned into USD per 1,000 approvals.
 * 3. Request creation throughput with `--pending` requests, then decision throughput and respond POST
 *    latency through the signed links, beside the floor (the same writes and SendTaskSuccess, direct): at
 *    `--concurrency`, and one at a time with POSTs and floor decisions alternating (`--pairs`).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT, startLocalStack } from '../stack.ts';
import { countOneApproval, type ApprovalCount } from './approval-cost.ts';
import { measureBundles } from './bundles.ts';
import { ceilingOf, measureCallCost } from './call-cost.ts';
import { channelCosts, costPer1000 } from './prices.ts';
import { printReport, type BenchReport } from './report.ts';
import { SdkCallRecorder } from './sdk-calls.ts';
import { createPending, decideAtFloor, decideOverHttp, pairedLatency } from './throughput.ts';

const USAGE = 'Usage: npm run bench -- [--pending 1000] [--floor 200] [--pairs 100] [--concurrency 8] [--fsync] [--json <file>] [--recipients 5] [--cdk-out <synthesized dir>] [--no-runtime-sdk]';

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got "${text}"\n${USAGE}`);
  return n;
}

/** The respond function's share of the approval: the reviewer's requests, which each channel replaces with its own. */
function respondUse(approval: ApprovalCount): { invocations: number; gbSeconds: number } {
  const entries = Object.entries(approval.invocations).filter(([fn]) => /respond/i.test(fn));
  return {
    invocations: entries.reduce((sum, [, v]) => sum + v.count, 0),
    gbSeconds: entries.reduce((sum, [, v]) => sum + (v.memoryMb / 1024) * (v.ms / 1000), 0),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pending: { type: 'string', default: '1000' },
      floor: { type: 'string', default: '200' },
      pairs: { type: 'string', default: '100' },
      concurrency: { type: 'string', default: '8' },
      fsync: { type: 'boolean', default: false },
      json: { type: 'string' },
      recipients: { type: 'string', default: '5' },
      'cdk-out': { type: 'string' },
      'no-runtime-sdk': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const pending = positive('pending', values.pending);
  const floor = positive('floor', values.floor);
  const pairs = positive('pairs', values.pairs);
  const concurrency = positive('concurrency', values.concurrency);
  const recipients = positive('recipients', values.recipients);
  const progress = (line: string) => process.stderr.write(`${line}\n`);

  // Other work on the machine skews every figure; the report shows the load the run started under.
  const loadAtStart = loadavg()[0]!;
  const bundles = await measureBundles(REPO_ROOT, { cdkOut: values['cdk-out'], runtimeSdk: !values['no-runtime-sdk'], progress });

  progress('timing one call…');
  const callCost = await measureCallCost(3000, concurrency);

  const stateDir = mkdtempSync(join(tmpdir(), 'hitl-bench-'));
  const zero = { respond: 0, ses: 0, sfn: 0, scheduler: 0, dynamodb: 0, secretsManager: 0, events: 0 };
  const stack = await startLocalStack({
    stateDir,
    ports: zero,
    fsync: values.fsync,
    cdkOutDir: join(REPO_ROOT, 'node_modules', '.cache', 'hitl-local', 'cdk.out-bench'),
    functionLogLevel: 'ERROR',
    // Every finished execution is logged; only the unusual is worth showing here.
    log: (line) => (/^execution \S+ SUCCEEDED$/.test(line) ? undefined : progress(`  stack: ${line}`)),
  });
  const recorder = new SdkCallRecorder().install().ignore(...Object.values(stack.clients));
  try {
    progress('counting one approval…');
    await countOneApproval(stack, recorder, 'warm-up'); // loads and caches the signing key first
    const approval = await countOneApproval(stack, recorder, 'counted');

    recorder.reset();
    progress(`creating ${pending} pending requests…`);
    const created = await createPending(stack, 'bench', pending, concurrency);
    progress(`creating ${floor} more for the floor…`);
    const forFloor = await createPending(stack, 'floor', floor, concurrency, pending);
    progress(`creating ${2 * pairs} more for the paired latencies…`);
    const paired = await createPending(stack, 'pair', 2 * pairs, concurrency, pending + floor);
    progress(`${pairs} respond POSTs alternating with ${pairs} floor decisions, one at a time…`);
    const latency = await pairedLatency(stack, paired.executionArns.slice(0, pairs), paired.executionArns.slice(pairs));
    progress(`deciding ${floor} at the floor…`);
    const floorResult = await decideAtFloor(stack, forFloor.executionArns, concurrency);
    progress(`deciding ${pending} through the respond endpoint…`);
    const decided = await decideOverHttp(stack, created.executionArns, concurrency);
    // The key ring is cached per function instance: its reads spread over every request handled.
    const secretReads = recorder.counts()['SecretsManager GetSecretValue'] ?? 0;
    approval.usage.secretsApiCalls = secretReads / (pending + floor);

    const report: BenchReport = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}`, loadAtStart },
      settings: { pending, floor, pairs, concurrency, fsync: values.fsync },
      bundles,
      approval,
      secretReads,
      cost: costPer1000(approval.usage),
      channels: { recipients, ...channelCosts(approval.usage, respondUse(approval), recipients) },
      created,
      floor: floorResult,
      decided,
      latency,
      callCost,
      // The caller's own call beside the handlers': StartExecution for a creation, the POST for a decision.
      ceiling: { creations: ceilingOf(callCost, approval.phases.creation + 1), decisions: ceilingOf(callCost, approval.phases.decision + 1) },
    };
    printReport(report);
    if (values.json) writeFileSync(values.json, `${JSON.stringify({ ...report, created: { ...created, executionArns: undefined } }, null, 2)}\n`);
  } finally {
    recorder.uninstall();
    await stack.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
