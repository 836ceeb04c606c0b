/**
 * `npm run trial:kill9`: kill -9 the local stack during bursts of StartExecution, restart it, and count what
 * was lost. Figures for docs/reliability.md.
 *
 *   npm run trial:kill9 -- --loops 10 --burst 200 --concurrency 16 [--fsync] [--json kill9.json]
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { kill9Cycle, type Kill9Result } from './kill9.ts';

const USAGE = 'Usage: npm run trial:kill9 -- [--loops 10] [--burst 200] [--concurrency 16] [--fsync] [--keep] [--json <file>]';

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number of at least 1, got "${text}"\n${USAGE}`);
  return n;
}

const sum = (results: readonly Kill9Result[], pick: (r: Kill9Result) => number) => results.reduce((n, r) => n + pick(r), 0);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      loops: { type: 'string', default: '10' },
      burst: { type: 'string', default: '200' },
      concurrency: { type: 'string', default: '16' },
      fsync: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const loops = positive('loops', values.loops);
  const burst = positive('burst', values.burst);
  const concurrency = positive('concurrency', values.concurrency);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  print(`kill -9 trial: ${loops} loop(s), bursts of ${burst} StartExecution, ${concurrency} at a time${values.fsync ? ', --fsync' : ''}`);
  print(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)} at start`);
  print('');
  print('loop  sent  acked  unanswered  killed at  acks/s  cut off but started  lost  stuck  repeated emails  restart  all open after');

  const results: Kill9Result[] = [];
  for (let loop = 1; loop <= loops; loop++) {
    const r = await kill9Cycle({ burst, concurrency, fsync: values.fsync, keepState: values.keep, tag: `k9-${loop}`, log: (line) => process.stderr.write(`  ${line}\n`) });
    results.push(r);
    print(
      [
        String(loop).padStart(4),
        String(r.sent).padStart(5),
        String(r.acknowledged).padStart(6),
        String(r.unanswered).padStart(11),
        `${r.killedAtMs.toFixed(0)} ms`.padStart(10),
        r.acksPerSecond.toFixed(0).padStart(7),
        String(r.cutOffStarted).padStart(20),
        String(r.lost.length).padStart(5),
        String(r.stuck.length).padStart(6),
        String(r.repeatedEmails).padStart(16),
        `${(r.restartMs / 1000).toFixed(1)} s`.padStart(8),
        `${(r.waitedMs / 1000).toFixed(1)} s`.padStart(15),
      ].join(' '),
    );
    for (const name of r.lost) print(`      lost: ${name}`);
    for (const s of r.stuck) print(`      stuck: ${s.name} (${s.seen})`);
  }

  const lost = sum(results, (r) => r.lost.length);
  const stuck = sum(results, (r) => r.stuck.length);
  print('');
  print(
    `total: ${loops} kills, ${sum(results, (r) => r.sent)} sent, ${sum(results, (r) => r.acknowledged)} acknowledged, ` +
      `${sum(results, (r) => r.cutOffStarted)} cut off but started, ${lost} lost, ${stuck} not proceeding, ${sum(results, (r) => r.repeatedEmails)} repeated emails`,
  );
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ at: new Date().toISOString(), loops, burst, concurrency, fsync: values.fsync, results }, null, 2)}\n`);
  return lost + stuck === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
