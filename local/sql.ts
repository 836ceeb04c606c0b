/**
 * `hitl sql`: SQL over the decisions, on DuckDB. The `decisions` table has the columns of the Glue table
 * Athena reads (shared/analytics/columns.ts), so a query written here runs unchanged in Athena and back.
 *
 * Two sources: the local stack's tables, mirrored into `<state dir>/analytics/decisions.duckdb` (the first
 * run reads every final event; later runs read only the days since the last one, by Query on the
 * decisions-by-day index), or an S3-style export directory (`day=YYYY-MM-DD/*.parquet`, as the stream
 * writes it), read in place.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  timestampValue,
  type DuckDBAppender,
  type DuckDBConnection,
  type DuckDBValue,
} from '@duckdb/node-api';
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DECISION_COLUMNS, DECISIONS_TABLE, DUCKDB_TYPES, PARTITION_COLUMN, type Column } from '#shared/analytics/columns.ts';
import { isFinalEvent, type DecisionRow } from '#shared/analytics/rows.ts';
import { recordsOf, requestRows } from '#shared/review/report.ts';
import type { DeploymentConfig } from '#shared/schemas/config.ts';
import { DecisionLog } from '#shared/store/decision-log.ts';
import { DECISION_LOG } from '#shared/tables.ts';
import type { LogEvent } from '#shared/store/model.ts';

export interface QueryResult {
  columns: string[];
  /** Plain values: numbers (BIGINT when safe), strings, booleans, null; timestamps as ISO 8601 (UTC). */
  rows: Record<string, unknown>[];
}

/** Functions Athena (Trino) has and DuckDB names otherwise, so ad-hoc queries run unchanged in both. */
const TRINO_NAMES = ['CREATE OR REPLACE TEMP MACRO json_extract_scalar(json, path) AS json_extract_string(json, path)'];

const ALL_COLUMNS: readonly { name: keyof DecisionRow; type: Column['type'] }[] = [...DECISION_COLUMNS, PARTITION_COLUMN];

function tableDdl(name: string, temp = false): string {
  const cols = ALL_COLUMNS.map((c) => `${c.name} ${DUCKDB_TYPES[c.type]}`).join(', ');
  return `CREATE ${temp ? 'TEMP ' : ''}TABLE IF NOT EXISTS ${name} (${cols})`;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/** A DuckDB value as plain JSON-able data. */
export function plainValue(value: DuckDBValue): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return new Date(Number(value.micros / 1000n)).toISOString();
  if (value instanceof DuckDBTimestampMillisecondsValue) return new Date(Number(value.millis)).toISOString();
  if (value instanceof DuckDBTimestampSecondsValue) return new Date(Number(value.seconds) * 1000).toISOString();
  if (value instanceof DuckDBTimestampNanosecondsValue) return new Date(Number(value.nanos / 1_000_000n)).toISOString();
  if (value instanceof DuckDBDecimalValue) return value.toDouble();
  if (value instanceof DuckDBListValue) return value.items.map(plainValue);
  if (value instanceof DuckDBStructValue) return Object.fromEntries(Object.entries(value.entries).map(([k, v]) => [k, plainValue(v)]));
  return String(value);
}

function append(appender: DuckDBAppender, column: Pick<Column, 'type'>, value: unknown): void {
  if (value === null || value === undefined) return appender.appendNull();
  switch (column.type) {
    case 'string':
      return appender.appendVarchar(String(value));
    case 'boolean':
      return appender.appendBoolean(Boolean(value));
    case 'int':
      return appender.appendInteger(Number(value));
    case 'bigint':
      return appender.appendBigInt(BigInt(Math.round(Number(value))));
    case 'double':
      return appender.appendDouble(Number(value));
    case 'timestamp':
      return appender.appendTimestamp(timestampValue(BigInt(Date.parse(String(value))) * 1000n));
  }
}

export class DecisionDatabase {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /** A database file (created if missing) or `:memory:`, with the `decisions` table. */
  static async open(path = ':memory:'): Promise<DecisionDatabase> {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const instance = await DuckDBInstance.create(path);
    const db = new DecisionDatabase(instance, await instance.connect());
    await db.connection.run(tableDdl(DECISIONS_TABLE));
    await db.connection.run('CREATE TABLE IF NOT EXISTS hitl_sync (decisions_table VARCHAR, table_created VARCHAR, watermark VARCHAR)');
    for (const sql of TRINO_NAMES) await db.connection.run(sql);
    return db;
  }

  /**
   * An S3-style export directory as the `decisions` table: Parquet files under `day=YYYY-MM-DD/` (Firehose
   * writes them so; `aws s3 sync s3://<bucket>/decisions/ <dir>` copies them). `day` stays text, as in Glue.
   */
  static async openExport(dir: string): Promise<DecisionDatabase> {
    const instance = await DuckDBInstance.create(':memory:');
    const db = new DecisionDatabase(instance, await instance.connect());
    const glob = `${dir.replace(/\/+$/, '')}/**/*.parquet`;
    await db.connection.run(`CREATE VIEW ${DECISIONS_TABLE} AS SELECT * FROM read_parquet(${quote(glob)}, hive_partitioning = true, hive_types = {'day': 'VARCHAR'}, union_by_name = true)`);
    for (const sql of TRINO_NAMES) await db.connection.run(sql);
    return db;
  }

  /** Insert rows, replacing any with the same request id (a final decision is one row per request). */
  async upsert(rows: readonly DecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    const c = this.connection;
    await c.run(tableDdl('incoming', true));
    await c.run('DELETE FROM incoming');
    const appender = await c.createAppender('incoming');
    for (const row of rows) {
      for (const column of ALL_COLUMNS) append(appender, column, row[column.name]);
      appender.endRow();
    }
    appender.closeSync();
    await c.run('BEGIN TRANSACTION');
    try {
      await c.run(`DELETE FROM ${DECISIONS_TABLE} WHERE request_id IN (SELECT request_id FROM incoming)`);
      await c.run(`INSERT INTO ${DECISIONS_TABLE} SELECT * FROM incoming`);
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK');
      throw err;
    }
  }

  async clear(): Promise<void> {
    await this.connection.run(`DELETE FROM ${DECISIONS_TABLE}`);
  }

  /** How many `?` parameters a statement takes. */
  async parameterCount(sql: string): Promise<number> {
    return (await this.connection.prepare(sql)).parameterCount;
  }

  /** Run one statement; `?` parameters are bound in order. */
  async query(sql: string, params: readonly string[] = []): Promise<QueryResult> {
    const prepared = await this.connection.prepare(sql);
    if (prepared.parameterCount !== params.length) {
      throw new SqlParameterError(`The query has ${prepared.parameterCount} ? parameter${prepared.parameterCount === 1 ? '' : 's'}; ${params.length} given`);
    }
    if (params.length > 0) prepared.bind([...params]);
    const reader = await prepared.runAndReadAll();
    const columns = reader.columnNames();
    const rows = reader.getRows().map((values) => Object.fromEntries(values.map((v, i) => [columns[i]!, plainValue(v)])));
    return { columns, rows };
  }

  async syncState(): Promise<{ decisionsTable: string; tableCreated: string; watermark: string } | undefined> {
    const { rows } = await this.query('SELECT decisions_table, table_created, watermark FROM hitl_sync');
    const r = rows[0];
    return r ? { decisionsTable: String(r.decisions_table), tableCreated: String(r.table_created), watermark: String(r.watermark) } : undefined;
  }

  async setSyncState(state: { decisionsTable: string; tableCreated: string; watermark: string }): Promise<void> {
    await this.connection.run('BEGIN TRANSACTION');
    await this.connection.run('DELETE FROM hitl_sync');
    await this.connection.run('INSERT INTO hitl_sync VALUES (?, ?, ?)', [state.decisionsTable, state.tableCreated, state.watermark]);
    await this.connection.run('COMMIT');
  }

  /** Which of these request ids already have a row. */
  async presentIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.query(`SELECT request_id FROM ${DECISIONS_TABLE} WHERE request_id IN (${ids.map(quote).join(', ')})`);
    return new Set(rows.map((r) => String(r.request_id)));
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

export class SqlParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlParameterError';
  }
}

export interface DecisionTables {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  requestsTable: string;
  decisionsTable: string;
  /** For out-of-hours and local hours where the log does not record them. */
  config?: DeploymentConfig;
}

export interface SyncResult {
  /** True when every final event was read (first run, `--refresh`, or the tables were recreated). */
  full: boolean;
  /** Final events added this time. */
  read: number;
  /** Rows in the table afterwards. */
  total: number;
}

/** Late writes (a retried final event) land at most this long after their decision time and are still picked up. */
export const SYNC_OVERLAP_MS = 15 * 60_000;

/** Every final event: a Scan of the sparse decisions-by-day index, which holds only them (and replays, dropped here). */
async function scanFinalEvents(doc: DynamoDBDocumentClient, tableName: string): Promise<LogEvent[]> {
  const events: LogEvent[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(new ScanCommand({ TableName: tableName, IndexName: DECISION_LOG.byDayIndex.name, ExclusiveStartKey: start }));
    for (const item of out.Items ?? []) if (isFinalEvent(item as LogEvent)) events.push(item as LogEvent);
    start = out.LastEvaluatedKey;
  } while (start);
  return events;
}

/**
 * Bring the `decisions` table up to date with the DynamoDB tables: everything on the first run, when the
 * decision log was recreated, or with `full`; otherwise the final events since the last run's latest
 * decision (less `SYNC_OVERLAP_MS`), by Query per day on decisions-by-day.
 */
export async function syncFromTables(db: DecisionDatabase, tables: DecisionTables, options: { full?: boolean; now?: Date } = {}): Promise<SyncResult> {
  const now = options.now ?? new Date();
  const described = await tables.dynamodb.send(new DescribeTableCommand({ TableName: tables.decisionsTable }));
  const tableCreated = described.Table?.CreationDateTime?.toISOString() ?? '';
  const state = await db.syncState();
  const full = options.full === true || !state || state.decisionsTable !== tables.decisionsTable || state.tableCreated !== tableCreated;

  let events: LogEvent[];
  if (full) {
    events = await scanFinalEvents(tables.doc, tables.decisionsTable);
  } else {
    const from = new Date(Date.parse(state.watermark) - SYNC_OVERLAP_MS).toISOString();
    const to = new Date(now.getTime() + 86_400_000).toISOString();
    const recent = (await new DecisionLog(tables.doc, tables.decisionsTable).decisionsInWindow({ from, to })).filter(isFinalEvent);
    // A final event never changes: the ones the mirror has are skipped, so a run with nothing new writes nothing.
    const present = await db.presentIds(recent.map((e) => e.requestId));
    events = recent.filter((e) => !present.has(e.requestId));
  }
  if (events.length > 0 || full) {
    const requests = await requestRows(tables.doc, tables.requestsTable, [...new Set(events.map((e) => e.requestId))]);
    const rows = recordsOf(events, requests, tables.config ? { config: tables.config } : {}).map((r) => r.row!);
    if (full) await db.clear();
    await db.upsert(rows);
  }
  const latest = events.reduce((max, e) => (e.at > max ? e.at : max), full ? '' : (state?.watermark ?? ''));
  const next = { decisionsTable: tables.decisionsTable, tableCreated, watermark: latest || new Date(0).toISOString() };
  if (full || next.watermark !== state?.watermark) await db.setSyncState(next);
  const { rows: count } = await db.query(`SELECT count(*) AS n FROM ${DECISIONS_TABLE}`);
  return { full, read: events.length, total: Number(count[0]?.n ?? 0) };
}

// ---- output ---------------------------------------------------------------------------------------------

function cell(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(value) ? value.replace('T', ' ').replace('Z', '') : value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** An aligned text table: numbers to the right, text to the left, long text cut at 60 characters. */
export function formatTable(result: QueryResult): string {
  const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  const body = result.rows.map((r) => result.columns.map((c) => cut(cell(r[c]))));
  const numeric = result.columns.map((c) => result.rows.length > 0 && result.rows.every((r) => r[c] === null || typeof r[c] === 'number'));
  const all = [result.columns, ...body];
  const widths = result.columns.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ').trimEnd();
  const lines = [line(result.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  lines.push(`(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`);
  return lines.join('\n');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header line; null is an empty field. */
export function formatCsv(result: QueryResult): string {
  return [result.columns.map(csvField).join(','), ...result.rows.map((r) => result.columns.map((c) => csvField(r[c])).join(','))].join('\n');
}
