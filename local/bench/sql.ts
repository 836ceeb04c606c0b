/**
 * The `hitl sql` benchmark: how long an ad-hoc query takes on the local stack with a hundred thousand log
 * events, for docs/benchmarks.md.
 *
 *   npx tsx local/bench/sql.ts [--events 100000] [--runs 10] [--json <file>] [--state-dir <dir>]
 *
 * It starts its own stack in a temporary directory (or in `--state-dir`, kept, so a second run skips the
 * writing), writes seeded decisions (created, notified, the final event, resumed, and a replay now and then:
 * about four log events per decision), then times:
 *   1. the first `hitl sql` (reads every final event and its request into the DuckDB mirror, then answers);
 *   2. the same command again, `--runs` times (the mirror reads only what is new, then answers);
 *   3. each named query once, the same way;
 *   4. `npx hitl sql` as a child process: Node and TypeScript start-up included.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NAMED_QUERIES } from '#shared/analytics/queries.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { main, type Io } from '../cli.ts';
import { REPO_ROOT, startLocalStack } from '../stack.ts';
import { seedDecisions, writeSeededInBulk } from './seed-decisions.ts';
import { summarize } from './stats.ts';

const AD_HOC = "SELECT agent, count(*) AS refunds, round(avg(decision_latency_ms) / 1000, 1) AS avg_s FROM decisions WHERE action_type = 'approval#refund' AND out_of_hours AND CAST(json_extract_scalar(agent_proposed, '$.action.args.amount_usd') AS DOUBLE) > 200 GROUP BY agent ORDER BY refunds DESC";

const quiet: Io = { out: () => undefined, err: () => undefined };

async function timed(argv: string[]): Promise<number> {
  const started = performance.now();
  const code = await main(argv, quiet);
  if (code !== 0) throw new Error(`hitl ${argv.join(' ')} exited ${code}`);
  return performance.now() - started;
}

async function run(): Promise<void> {
  const { values } = parseArgs({
    options: { events: { type: 'string', default: '100000' }, runs: { type: 'string', default: '10' }, json: { type: 'string' }, 'state-dir': { type: 'string' } },
  });
  const wantedEvents = Number(values.events);
  const runs = Number(values.runs);
  const keep = values['state-dir'];
  const stateDir = keep ?? mkdtempSync(join(tmpdir(), 'hitl-bench-sql-'));
  const seededBefore = existsSync(join(stateDir, 'dynamodb'));
  mkdirSync(stateDir, { recursive: true });
  const progress = (line: string) => process.stderr.write(`${line}\n`);
  const stack = await startLocalStack({ stateDir, ports: { respond: 0, ses: 0, sfn: 0, scheduler: 0, dynamodb: 0, secretsManager: 0 }, functionLogLevel: 'ERROR' });
  try {
    const config = parseDeploymentConfig((await import('../../cdk.json', { with: { type: 'json' } })).default.context.hitl);
    // About four log events per decision; a first pass finds the count that gives the events wanted.
    const perDecision = seedDecisions(config, { count: 1000, firstDay: '2026-10-01', days: 60 }).events.length / 1000;
    let count = Math.ceil(wantedEvents / perDecision);
    let seeded = seedDecisions(config, { count, firstDay: '2026-10-01', days: 60 });
    while (seeded.events.length < wantedEvents) seeded = seedDecisions(config, { count: (count += 25), firstDay: '2026-10-01', days: 60 });
    const writeStart = performance.now();
    if (!seededBefore) await writeSeededInBulk(stack.clients.doc, stack.tables, seeded);
    const writeMs = performance.now() - writeStart;
    progress(`${seededBefore ? 'reusing' : 'wrote'} ${seeded.events.length} log events (${seeded.finals.length} decisions) in ${(writeMs / 1000).toFixed(1)} s`);

    const where = ['--state-dir', stateDir];
    rmSync(join(stateDir, 'analytics'), { recursive: true, force: true });
    const first = await timed(['sql', AD_HOC, ...where]);
    progress(`first hitl sql (reads every decision into the mirror): ${(first / 1000).toFixed(1)} s`);
    const again: number[] = [];
    for (let i = 0; i < runs; i++) again.push(await timed(['sql', AD_HOC, ...where]));
    progress(`then ${runs} more: ${again.map((ms) => Math.round(ms)).join(', ')} ms`);
    const named: Record<string, number> = {};
    for (const q of NAMED_QUERIES) named[q.name] = await timed(['sql', '--named', q.name, '--since', '2026-10-01', '--until', '2026-11-30', ...where]);
    progress(`named queries: ${Object.entries(named).map(([n, ms]) => `${n} ${Math.round(ms)} ms`).join(', ')}`);

    // As a user runs it: a new Node process with the TypeScript loader. (Asynchronously: this process serves its DynamoDB.)
    const child: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await new Promise<void>((resolve, reject) => {
        const p = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'local/cli.ts'), 'sql', AD_HOC, ...where], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        p.stderr.on('data', (d: Buffer) => (err += d.toString()));
        p.on('error', reject);
        p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`hitl sql as a process exited ${code}: ${err}`))));
      });
      child.push(performance.now() - started);
    }
    progress(`as a process: ${child.map((ms) => Math.round(ms)).join(', ')} ms`);

    const report = {
      date: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, load1: loadavg()[0] },
      events: seeded.events.length,
      decisions: seeded.finals.length,
      writeSeconds: seededBefore ? null : writeMs / 1000,
      firstRunMs: first,
      againMs: summarize(again),
      namedMs: named,
      processMs: summarize(child),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (values.json) writeFileSync(values.json, JSON.stringify(report, null, 2));
  } finally {
    await stack.stop();
    if (!keep) rmSync(stateDir, { recursive: true, force: true });
  }
}

await run();
