/**
 * `hitl sql` against the local stack: a few hundred decisions of known outcomes written to the tables,
 * then every named query run by the CLI equals what `hitl report --json` gives for the same window; ad-hoc
 * SQL, the incremental mirror, CSV, and the same answers from a Parquet export directory.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '#local/cli.ts';
import { NAMED_QUERIES } from '#shared/analytics/queries.ts';
import type { EvalCase } from '#shared/review/eval-export.ts';
import type { DecisionReport } from '#shared/review/report.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { expectNamedQueriesMatchReport } from '../support/named-vs-report.ts';
import { seedDecisions, writeSeeded, type Seeded } from '#local/bench/seed-decisions.ts';
import cdkJson from '../../cdk.json' with { type: 'json' };

interface Run {
  code: number;
  out: string;
  err: string;
}

let stack: TestStack;
let seeded: Seeded;
let exportDir: string;
const WINDOW = ['--since', '2026-03-02', '--until', '2026-03-04'];
const inWindow = (at: string) => at >= '2026-03-02' && at < '2026-03-05';

async function cli(argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main([...argv, '--state-dir', stack.stateDir], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function json<T>(argv: string[]): Promise<T> {
  const run = await cli([...argv, '--json']);
  expect(run.code, run.err).toBe(0);
  return JSON.parse(run.out) as T;
}

beforeAll(async () => {
  stack = await startTestStack();
  const config = parseDeploymentConfig(cdkJson.context.hitl);
  // 1 to 5 March 2026: the window is the middle three days, so decisions on either side must stay out.
  seeded = seedDecisions(config, { count: 300, firstDay: '2026-03-01', days: 5, seed: 3 });
  await writeSeeded(stack.clients.doc, stack.tables, seeded);
  exportDir = mkdtempSync(join(tmpdir(), 'hitl-export-'));
});

afterAll(async () => {
  await stack?.stop();
  rmSync(exportDir, { recursive: true, force: true });
});

describe('hitl sql on the local stack', () => {
  it('every named query equals hitl report --json for the same window', async () => {
    const report = await json<DecisionReport>(['report', ...WINDOW]);
    const expectedDecisions = seeded.finals.filter((e) => inWindow(e.decision.decidedAt));
    expect(report.overall.decisions).toBe(expectedDecisions.length);
    expect(report.overall.cancelled).toBe(expectedDecisions.filter((e) => e.event === ('cancelled' as never)).length);
    expect(report.overall.byPolicy).toBe(expectedDecisions.filter((e) => e.decision.policy).length);

    const sizes = await expectNamedQueriesMatchReport((name) => json<Record<string, unknown>[]>(['sql', '--named', name, ...WINDOW]), report);
    for (const [name, n] of Object.entries(sizes)) expect(n, name).toBeGreaterThan(0);

    // The eval cases are the same requests as hitl export's.
    const exported = await cli(['export', '--since', '2026-03-02', '--until', '2026-03-04']);
    const ids = exported.out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as EvalCase).requestId).sort();
    const rows = await json<{ request_id: string }[]>(['sql', '--named', 'disagreements', ...WINDOW]);
    expect(rows.map((r) => r.request_id).sort()).toEqual(ids);
  });

  it('known outcomes: the fast approver stands out; replayed events are not decisions', async () => {
    const reviewers = await json<{ user_id: string; fast_approval_share: number; decisions: number }[]>(['sql', '--named', 'reviewer-fatigue', ...WINDOW]);
    const lead2 = reviewers.find((r) => r.user_id === 'lead2@example.com')!;
    const others = reviewers.filter((r) => r.user_id !== 'lead2@example.com');
    expect(lead2.fast_approval_share).toBeGreaterThan(0.5);
    for (const r of others) expect(r.fast_approval_share).toBe(0);
    const people = seeded.finals.filter((e) => inWindow(e.decision.decidedAt) && e.decision.decidedBy === 'lead2@example.com');
    expect(lead2.decisions).toBe(people.length);

    const [all] = await json<{ n: number; requests: number }[]>(['sql', 'SELECT count(*) AS n, count(DISTINCT request_id) AS requests FROM decisions']);
    expect(all).toEqual({ n: seeded.finals.length, requests: seeded.finals.length });
  });

  it('ad-hoc SQL with the window as two ? parameters; CSV; a bad query fails with the engine\'s message', async () => {
    const sql = "SELECT agent, count(*) AS refunds FROM decisions WHERE day BETWEEN ? AND ? AND action_type = 'approval#refund' AND CAST(json_extract_scalar(agent_proposed, '$.action.args.amount_usd') AS DOUBLE) > 200 GROUP BY agent ORDER BY agent";
    const rows = await json<{ agent: string; refunds: number }[]>(['sql', sql, ...WINDOW]);
    const expected = new Map<string, number>();
    for (const row of seeded.rows) {
      const r = row.request;
      if (r.kind !== 'approval' || r.action.name !== 'refund' || Number(r.action.args.amount_usd) <= 200 || !inWindow(row.decision!.decidedAt)) continue;
      expected.set(r.agent, (expected.get(r.agent) ?? 0) + 1);
    }
    expect(rows).toEqual([...expected.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([agent, refunds]) => ({ agent, refunds })));

    const csv = await cli(['sql', 'SELECT human_decision, count(*) AS n FROM decisions GROUP BY 1 ORDER BY 1', '--csv']);
    expect(csv.code).toBe(0);
    expect(csv.out.split('\n')[0]).toBe('human_decision,n');
    expect(csv.out).toContain('cancelled,');

    const bad = await cli(['sql', 'SELECT nope FROM decisions']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/Binder Error.*nope/);
    const oneParameter = await cli(['sql', 'SELECT count(*) AS n FROM decisions WHERE day >= ?']);
    expect(oneParameter.code).toBe(2);
    expect(oneParameter.err).toContain('The query has 1 ? parameter; 0 given');
    const shown = await cli(['sql', '--named', 'rates', '--show']);
    expect(shown.out).toBe(NAMED_QUERIES.find((q) => q.name === 'rates')!.sql);
    const unknown = await cli(['sql', '--named', 'no-such-query']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain(NAMED_QUERIES[0]!.name);
  });

  it('the mirror reads only what is new: a decision written after the first run shows up in the next', async () => {
    const before = await json<{ n: number }[]>(['sql', 'SELECT count(*) AS n FROM decisions']);
    const more = seedDecisions(parseDeploymentConfig(cdkJson.context.hitl), { count: 3, firstDay: '2026-03-03', days: 1, seed: 99 });
    await writeSeeded(stack.clients.doc, stack.tables, more);
    // Written "late": their decision times are long before the last run's newest, so only --refresh reads them.
    const after = await cli(['sql', 'SELECT count(*) AS n FROM decisions', '--json']);
    expect(JSON.parse(after.out)).toEqual(before);
    const refreshed = await cli(['sql', 'SELECT count(*) AS n FROM decisions', '--json', '--refresh']);
    expect(JSON.parse(refreshed.out)).toEqual([{ n: before[0]!.n + 3 }]);
    expect(refreshed.err).toMatch(/read \d+ decisions/);
  });

  it('an S3-style Parquet export (day=YYYY-MM-DD/) gives the same answers with --data', async () => {
    const out = join(exportDir, 'decisions');
    const copy = await cli(['sql', `COPY decisions TO '${out}' (FORMAT parquet, PARTITION_BY (day))`]);
    expect(copy.code, copy.err).toBe(0);
    expect(readdirSync(out).filter((d) => d.startsWith('day=')).length).toBeGreaterThanOrEqual(5);
    for (const name of ['rates', 'reviewer-fatigue', 'queue-depth']) {
      const fromTables = await json<unknown[]>(['sql', '--named', name, ...WINDOW]);
      const fromFiles = await json<unknown[]>(['sql', '--named', name, ...WINDOW, '--data', out]);
      expect(fromFiles, name).toEqual(fromTables);
    }
  });
});
