/**
 * `npm run trial:races -- [--trials 1000] [--concurrency 8]`: approve ∥ deny ∥ expiry ∥ cancel on distinct
 * requests, on a fresh local stack in a temporary directory. Prints the figures; exits 1 on any violation.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalStack } from '../stack.ts';
import { runRaceTrials } from './races.ts';

const { values } = parseArgs({ options: { trials: { type: 'string', default: '1000' }, concurrency: { type: 'string', default: '8' } } });
const trials = Number(values.trials);
const concurrency = Number(values.concurrency);
const stateDir = mkdtempSync(join(tmpdir(), 'hitl-races-'));
const stack = await startLocalStack({
  stateDir,
  ports: { respond: 0, ses: 0, sfn: 0, scheduler: 0, dynamodb: 0, secretsManager: 0 },
  retryIntervalMs: 0,
  scheduleRetryDelayMs: 0,
  functionLogLevel: 'CRITICAL',
});
try {
  const report = await runRaceTrials(stack, trials, concurrency, (done) => {
    if (done % 100 === 0) process.stdout.write(`  ${done}/${trials}\n`);
  });
  console.log(`races: ${report.trials} trials in ${report.seconds.toFixed(1)} s (${concurrency} at a time)`);
  console.log(`  won by: approve ${report.wins.approve}, deny ${report.wins.deny}, expiry ${report.wins.expire}, cancel ${report.wins.cancel}, none ${report.wins.none}`);
  console.log(`  executions: ${Object.entries(report.statuses).map(([s, n]) => `${s} ${n}`).join(', ')}`);
  console.log(`  violations: ${report.violations.length}`);
  for (const v of report.violations.slice(0, 20)) console.log(`    ${v}`);
  process.exitCode = report.violations.length ? 1 : 0;
} finally {
  await stack.stop();
  rmSync(stateDir, { recursive: true, force: true });
}
