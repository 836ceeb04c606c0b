/**
 * `npm run trial:kill9:approvals`: kill -9 the local stack during bursts of approvals, restart it, and check
 * that every request ends with one final state, one final log event and the stored Decision in the agent's
 * hands. Figures for docs/reliability.md.
 *
 *   npm run trial:kill9:approvals -- --loops 10 --requests 60 --concurrency 16 [--fsync]
 */
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { kill9ApprovalsCycle, type Kill9ApprovalsResult } from './kill9-approvals.ts';

const { values } = parseArgs({
  options: {
    loops: { type: 'string', default: '10' },
    requests: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '16' },
    fsync: { type: 'boolean', default: false },
  },
});
const [loops, requests, concurrency] = [Number(values.loops), Number(values.requests), Number(values.concurrency)];
const print = (line: string) => process.stdout.write(`${line}\n`);
print(`kill -9 during approvals: ${loops} loop(s), ${requests} requests approved ${concurrency} at a time${values.fsync ? ', --fsync' : ''}`);
print(`machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'cpu'}, Node ${process.version}, load ${loadavg()[0]!.toFixed(2)} at start`);
print('');
print('loop  answered  approved  cut off  killed at  restart  settled  violations');
const results: Kill9ApprovalsResult[] = [];
for (let loop = 1; loop <= loops; loop++) {
  const r = await kill9ApprovalsCycle({ requests, concurrency, fsync: values.fsync, tag: `k9a-${loop}`, log: (line) => process.stderr.write(`  ${line}\n`) });
  results.push(r);
  print(
    [
      String(loop).padStart(4),
      String(r.answered).padStart(9),
      String(r.approvedBeforeKill).padStart(9),
      String(r.unanswered).padStart(8),
      `${r.killedAtMs.toFixed(0)} ms`.padStart(10),
      `${(r.restartMs / 1000).toFixed(1)} s`.padStart(8),
      `${r.settled}/${r.requests}`.padStart(8),
      String(r.violations.length).padStart(11),
    ].join(' '),
  );
  for (const v of r.violations) print(`      ${v}`);
}
const violations = results.reduce((n, r) => n + r.violations.length, 0);
print('');
print(`total: ${loops} kills, ${results.reduce((n, r) => n + r.requests, 0)} requests, ${results.reduce((n, r) => n + r.approvedBeforeKill, 0)} approved before a kill, ${results.reduce((n, r) => n + r.settled, 0)} settled with the stored Decision, ${violations} violations`);
process.exit(violations === 0 ? 0 : 1);
