/** The benchmark's printed report: compact tables, one per question. */
import type { ApprovalCount } from './approval-cost.ts';
import type { BundleReport } from './bundles.ts';
import type { CallCost, Ceiling } from './call-cost.ts';
import type { ChannelCost, CostLine } from './prices.ts';
import type { CreateResult, DecideResult, FloorResult, PairedLatency } from './throughput.ts';

export interface BenchReport {
  at: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; /** 1-minute load average when the run started. */ loadAtStart: number };
  settings: { pending: number; floor: number; pairs: number; concurrency: number; fsync: boolean };
  bundles: BundleReport;
  approval: ApprovalCount;
  /** GetSecretValue calls while the bulk requests were created and decided. */
  secretReads: number;
  cost: { lines: CostLine[]; total: number };
  /** USD per 1,000 approvals by channel, for 1 and `recipients` reviewers notified. */
  channels: { recipients: number; core: number; channels: ChannelCost[] };
  created: CreateResult;
  floor: FloorResult;
  decided: DecideResult;
  /** One at a time, POSTs and floor decisions alternating. */
  latency: PairedLatency;
  /** CPU per call on this machine, and the throughput that leaves at most. */
  callCost: CallCost;
  ceiling: { creations: Ceiling; decisions: Ceiling };
}

function table(head: string[], rows: (string | number)[][]): string {
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;
const num = (n: number) => (Number.isInteger(n) ? String(n) : n < 0.01 ? n.toExponential(2) : n.toFixed(3));

export function printReport(r: BenchReport): void {
  const out: string[] = [];
  out.push(`hitl benchmark, ${r.at}: ${r.machine.cpus} × ${r.machine.cpuModel}, Node ${r.machine.node}, ${r.machine.platform}, load ${r.machine.loadAtStart.toFixed(2)} at start`);
  out.push(`settings: ${r.settings.pending} pending, ${r.settings.floor} at the floor, ${r.settings.pairs} paired, concurrency ${r.settings.concurrency}${r.settings.fsync ? ', fsync' : ''}`, '');

  const largest = Math.max(...r.bundles.functions.map((f) => f.raw));
  const slowest = Math.max(...r.bundles.functions.map((f) => f.init.ratio));
  const p99Ratio = r.latency.post.p99 / r.latency.floor.p99;
  const loadedRatio = r.decided.latencyMs.p99 / r.floor.latencyMs.p99;
  const goal = (ok: boolean) => (ok ? 'met' : 'NOT met');
  out.push('Goals');
  out.push(
    table(
      ['goal', 'measured', ''],
      [
        ['each bundle ≤ 250 KB minified', `largest ${kb(largest)}`, goal(largest <= 250 * 1024)],
        ['module init ≤ 1.5× an empty handler', `slowest ${slowest.toFixed(2)}×`, goal(slowest <= 1.5)],
        ['≥ 200 creations/s', r.created.perSecond.toFixed(1), goal(r.created.perSecond >= 200)],
        ['≥ 200 decisions/s', r.decided.perSecond.toFixed(1), goal(r.decided.perSecond >= 200)],
        ['respond p99 ≤ 1.5× the floor (one at a time)', `${p99Ratio.toFixed(2)}× (at concurrency ${r.settings.concurrency}: ${loadedRatio.toFixed(2)}×)`, goal(p99Ratio <= 1.5)],
      ],
    ),
    '',
  );

  out.push('Throughput (local stack)');
  out.push(
    table(
      ['', 'count', 'seconds', 'per second'],
      [
        ['requests created (PENDING, emailed)', r.created.count, r.created.seconds.toFixed(1), r.created.perSecond.toFixed(1)],
        ['decisions (respond POST)', r.decided.count, r.decided.seconds.toFixed(1), r.decided.perSecond.toFixed(1)],
        ['  … until every execution SUCCEEDED', r.decided.count, r.decided.allSucceededSeconds.toFixed(1), (r.decided.count / r.decided.allSucceededSeconds).toFixed(1)],
        ['floor (decision transaction + SendTaskSuccess + resumed transaction)', r.floor.count, r.floor.seconds.toFixed(1), r.floor.perSecond.toFixed(1)],
      ],
    ),
    '',
  );

  const cc = r.callCost;
  out.push(
    `One call costs this machine ${cc.sdkCpuMs.toFixed(2)} ms of CPU through the SDK (${cc.httpCpuMs.toFixed(2)} ms as a bare HTTP round trip), client and server together, ${cc.concurrency} at a time.`,
    `At ${r.ceiling.creations.callsPerOperation} calls per creation and ${r.ceiling.decisions.callsPerOperation} per decision, ${r.machine.cpus} cores doing nothing else allow at most ${r.ceiling.creations.perSecond.toFixed(0)} creations/s and ${r.ceiling.decisions.perSecond.toFixed(0)} decisions/s.`,
    '',
  );

  const c = r.created.latencyMs;
  const d = r.decided.latencyMs;
  const f = r.floor.latencyMs;
  out.push(`Latency at concurrency ${r.settings.concurrency}`);
  out.push(
    table(
      ['', 'p50', 'p99', 'mean', 'max'],
      [
        ['request creation (StartExecution → PENDING, emailed)', ms(c.p50), ms(c.p99), ms(c.mean), ms(c.max)],
        ['respond POST (HTTP → handler → writes → SendTaskSuccess → page)', ms(d.p50), ms(d.p99), ms(d.mean), ms(d.max)],
        ['floor (same writes + SendTaskSuccess, direct)', ms(f.p50), ms(f.p99), ms(f.mean), ms(f.max)],
        ['ratio POST / floor', `${(d.p50 / f.p50).toFixed(2)}×`, `${(d.p99 / f.p99).toFixed(2)}×`, `${(d.mean / f.mean).toFixed(2)}×`, ''],
      ],
    ),
    '',
  );

  const lp = r.latency.post;
  const lf = r.latency.floor;
  out.push(`Latency one at a time, ${r.latency.pairs} POSTs alternating with ${r.latency.pairs} floor decisions`);
  out.push(
    table(
      ['', 'p50', 'p99', 'mean', 'max'],
      [
        ['respond POST', ms(lp.p50), ms(lp.p99), ms(lp.mean), ms(lp.max)],
        ['floor', ms(lf.p50), ms(lf.p99), ms(lf.mean), ms(lf.max)],
        ['ratio POST / floor', `${(lp.p50 / lf.p50).toFixed(2)}×`, `${(lp.p99 / lf.p99).toFixed(2)}×`, `${(lp.mean / lf.mean).toFixed(2)}×`, ''],
      ],
    ),
    '',
  );

  const b = r.bundles;
  out.push(`Handler bundles (cdk synth assets) and module init: fresh process, median of ${b.runs}; empty handler ${ms(b.empty.processMs)} (import ${ms(b.empty.importMs)})`);
  out.push(
    table(
      ['entry', 'index.mjs', 'gzip', 'source map', 'process', 'import', 'init ratio', 'runtime SDK: size', 'process', 'ratio'],
      b.functions.map((f) => [
        f.entry,
        kb(f.raw),
        kb(f.gzip),
        kb(f.sourceMap),
        ms(f.init.processMs),
        ms(f.init.importMs),
        `${f.init.ratio.toFixed(2)}×`,
        f.runtimeSdk ? kb(f.runtimeSdk.raw) : '',
        f.runtimeSdk ? ms(f.runtimeSdk.init.processMs) : '',
        f.runtimeSdk ? `${f.runtimeSdk.init.ratio.toFixed(2)}×` : '',
      ]),
    ),
    '',
  );

  const a = r.approval;
  out.push(`One approval: ${a.states.length} state transitions (${a.states.join(' → ')})`);
  out.push(table(['AWS call (handlers)', 'count'], Object.entries(a.calls).sort(([x], [y]) => x.localeCompare(y))));
  out.push('');
  out.push(table(['Lambda function', 'invocations', 'local ms', 'memory'], Object.entries(a.invocations).map(([fn, v]) => [fn, v.count, v.ms, `${v.memoryMb} MB`])));
  out.push(`DynamoDB: ${a.capacity.wru} WRU table + ${a.capacity.indexWru} WRU indexes, ${a.capacity.rru} RRU`);
  out.push(`Secrets Manager: ${r.secretReads} GetSecretValue over ${r.settings.pending + r.settings.floor} bulk requests (key ring cached)`, '');

  out.push('Cost per 1,000 approvals (us-east-1 on-demand, no free tiers)');
  out.push(table(['item', 'per approval', 'USD / 1,000'], [...r.cost.lines.map((l) => [l.item, num(l.perApproval), l.usdPer1000.toFixed(5)]), ['total', '', r.cost.total.toFixed(4)]]));
  out.push('');
  const ch = r.channels;
  out.push(`Cost per 1,000 approvals by channel (model: the measured core $${ch.core.toFixed(4)} plus what the channel adds)`);
  out.push(table(['channel', '1 reviewer', `${ch.recipients} reviewers`, 'how'], ch.channels.map((c) => [c.channel, `$${c.one.toFixed(4)}`, `$${c.many.toFixed(4)}`, c.how])));
  console.log(out.join('\n'));
}
