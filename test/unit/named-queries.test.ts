/**
 * The named queries: each one parses with the Trino grammar (Athena engine version 3) and runs on DuckDB,
 * calls only functions both engines have, and on seeded decisions gives exactly the numbers the report
 * computes in TypeScript.
 */
import { TrinoSQL } from 'dt-sql-parser/dist/parser/trino/index.js';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insightsQueries } from '#infra/constructs/decision-dashboard.ts';
import { DecisionDatabase } from '#local/sql.ts';
import { DECISION_COLUMNS } from '#shared/analytics/columns.ts';
import { NAMED_QUERIES } from '#shared/analytics/queries.ts';
import { recordsOf, report, type DecisionRecord } from '#shared/review/report.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { expectNamedQueriesMatchReport } from '../support/named-vs-report.ts';
import { seedDecisions } from '#local/bench/seed-decisions.ts';
import cdkJson from '../../cdk.json' with { type: 'json' };

const trino = new TrinoSQL();

/**
 * Functions the named queries may call: each is documented for Trino (trino.io/docs, functions list) and
 * exists in DuckDB (checked below against duckdb_functions()).
 */
const COMMON_FUNCTIONS = ['count', 'count_if', 'sum', 'min', 'max', 'round', 'row_number', 'date_trunc', 'nullif'];

/** Words followed by "(" that are SQL syntax, not function calls. */
const SYNTAX = new Set(['in', 'as', 'over', 'cast', 'and', 'or', 'on', 'by', 'from', 'select', 'where', 'exists', 'values', 'with', 'using', 'not', 'then', 'else', 'when']);

function functionsCalled(sql: string): string[] {
  const withoutStrings = sql.replace(/'[^']*'/g, "''");
  const names = [...withoutStrings.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s*\(/g)].map((m) => m[1]!.toLowerCase());
  const ctes = new Set([...withoutStrings.matchAll(/\b([A-Za-z_][A-Za-z0-9_]*)\s+AS\s*\(/gi)].map((m) => m[1]!.toLowerCase()));
  return [...new Set(names.filter((n) => !SYNTAX.has(n) && !ctes.has(n)))].sort();
}

const config = parseDeploymentConfig(cdkJson.context.hitl);

describe('named queries: both dialects', () => {
  let db: DecisionDatabase;
  beforeAll(async () => {
    db = await DecisionDatabase.open();
  });
  afterAll(() => db.close());

  it('names are unique, kebab-case, with a description Athena accepts', () => {
    expect(new Set(NAMED_QUERIES.map((q) => q.name)).size).toBe(NAMED_QUERIES.length);
    for (const q of NAMED_QUERIES) {
      expect(q.name).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(q.description.length).toBeGreaterThan(20);
      expect(q.description.length).toBeLessThanOrEqual(1024);
    }
  });

  for (const q of NAMED_QUERIES) {
    it(`${q.name}: parses as Trino SQL, runs on DuckDB, calls only common functions`, async () => {
      expect(trino.validate(q.sql), 'Trino grammar').toEqual([]);
      expect(await db.parameterCount(q.sql)).toBe(2);
      const result = await db.query(q.sql, ['2026-03-01', '2026-03-31']);
      expect(result.rows).toEqual([]);
      for (const fn of functionsCalled(q.sql)) expect(COMMON_FUNCTIONS, `${q.name} calls ${fn}`).toContain(fn);
    });
  }

  it('every common function exists in DuckDB', async () => {
    const { rows } = await db.query(`SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_name IN (${COMMON_FUNCTIONS.map((f) => `'${f}'`).join(', ')})`);
    expect(rows.map((r) => r.function_name).sort()).toEqual([...COMMON_FUNCTIONS].sort());
  });

  it('the checks bite: DuckDB-only syntax fails the Trino grammar, a Trino-only function fails the list, a typo fails DuckDB', async () => {
    expect(trino.validate('SELECT * EXCLUDE (agent) FROM decisions').length).toBeGreaterThan(0);
    expect(trino.validate('SELECT 7 // 2 FROM decisions').length).toBeGreaterThan(0);
    expect(functionsCalled("SELECT approx_percentile(decision_latency_ms, 0.9) FROM decisions WHERE kind IN ('approval')")).toEqual(['approx_percentile']);
    await expect(db.query('SELECT count_iff(by_person) FROM decisions')).rejects.toThrow(/count_iff/);
  });

  it('docs/analytics.md shows every named query as it is, every column and every saved Logs Insights query', () => {
    const doc = readFileSync(new URL('../../docs/analytics.md', import.meta.url), 'utf8');
    for (const q of NAMED_QUERIES) {
      expect(doc, q.name).toContain(`### ${q.name}`);
      expect(doc, q.name).toContain(q.sql);
    }
    for (const c of DECISION_COLUMNS) expect(doc, c.name).toContain(`| \`${c.name}\` | ${c.type} |`);
    for (const name of Object.keys(insightsQueries())) expect(doc, name).toContain(`| \`${name}\` |`);
  });

  it("the table's columns are the hitl_decision record's, then the analysts' own", () => {
    expect(DECISION_COLUMNS.slice(0, 8).map((c) => c.name)).toEqual(['request_id', 'user_id', 'action_type', 'agent_proposed', 'agent_reason', 'human_decision', 'human_feedback', 'decision_latency_ms']);
  });
});

describe('named queries on DuckDB equal the report', () => {
  const seeded = seedDecisions(config, { count: 400, firstDay: '2026-03-01', days: 5, seed: 11 });
  const window = { from: '2026-03-02T00:00:00.000Z', to: '2026-03-04T23:59:59.999Z' };
  let records: DecisionRecord[];
  let db: DecisionDatabase;

  beforeAll(async () => {
    const requests = new Map(seeded.rows.map((r) => [r.requestId, r]));
    const all = recordsOf(seeded.events, requests, { config });
    records = all.filter((r) => r.decision.decidedAt >= window.from && r.decision.decidedAt <= window.to);
    db = await DecisionDatabase.open();
    await db.upsert(all.map((r) => r.row!));
  });
  afterAll(() => db.close());

  it('every named query, window 2 to 4 March, against report() over the same decisions', async () => {
    const r = report(records, new Date('2026-03-05T00:00:00Z'), { window });
    const sizes = await expectNamedQueriesMatchReport(async (name) => (await db.query(NAMED_QUERIES.find((q) => q.name === name)!.sql, ['2026-03-02', '2026-03-04'])).rows, r);
    // Every query had something to compare.
    for (const [name, n] of Object.entries(sizes)) expect(n, name).toBeGreaterThan(0);
    // Known from the seed: cancellations and replays are neither counted as people's nor twice.
    expect(r.overall.decisions).toBe(records.length);
    expect(r.overall.cancelled).toBe(records.filter((x) => x.decision.outcome === ('cancelled' as never)).length);
    expect(r.overall.cancelled).toBeGreaterThan(0);
  });

  it('a decision the stream delivered twice counts once', async () => {
    await db.connection.run("INSERT INTO decisions SELECT * FROM decisions WHERE day = '2026-03-03' AND request_id < 'seed-11-000100'");
    const { rows } = await db.query("SELECT count(*) AS n FROM decisions WHERE day = '2026-03-03'");
    const copies = Number(rows[0]!.n) - records.filter((x) => x.decision.decidedAt.startsWith('2026-03-03')).length;
    expect(copies).toBeGreaterThan(0);
    const r = report(records, new Date('2026-03-05T00:00:00Z'), { window });
    await expectNamedQueriesMatchReport(async (name) => (await db.query(NAMED_QUERIES.find((q) => q.name === name)!.sql, ['2026-03-02', '2026-03-04'])).rows, r);
  });
});
