/**
 * Where executions are kept. What the API acknowledges (an execution started, a task's callback outcome, an
 * execution closed) goes to `journal.jsonl` before the answer; each execution's full record, history included,
 * goes to its own snapshot file shortly after it changes. Loading applies the journal to the snapshots; the
 * journal is then folded into them and emptied, so it only ever holds what happened since.
 */
import { join } from 'node:path';
import { JsonRecordDir, ensurePrivateDir, type Warn } from '../json-file.ts';
import { Journal } from '../journal.ts';
import { History, NOT_TRUNCATED, closingEventType, type HistoryEvent } from './history.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What SendTaskSuccess or SendTaskFailure settled a callback task with; a replay reuses it. */
export interface CallbackOutcome {
  /** The Task state the token belonged to. */
  state: string;
  output?: string;
  error?: string;
  cause?: string;
}

export interface ExecutionRecord {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: ExecutionStatus;
  input: string;
  output?: string;
  error?: string;
  cause?: string;
  /** Epoch milliseconds. */
  startDate: number;
  stopDate?: number;
  /** How many times a restart of the local stack replayed this execution from its input. */
  replays: number;
  /** Callback outcomes acknowledged while the execution runs, in order. */
  callbacks?: CallbackOutcome[];
  history: HistoryEvent[];
}

export type ExecutionEntry =
  | { op: 'started'; record: Omit<ExecutionRecord, 'history'> }
  | { op: 'callback'; executionArn: string; index: number; outcome: CallbackOutcome }
  | { op: 'closed'; executionArn: string; status: ExecutionStatus; output?: string; error?: string; cause?: string; stopDate: number };

/** Past this size the journal is folded into the snapshots while running. */
const FOLD_AT_BYTES = 8 * 1024 * 1024;

function isRecord(value: unknown): value is ExecutionRecord {
  const r = value as Partial<ExecutionRecord> | null;
  return typeof r?.executionArn === 'string' && typeof r.input === 'string' && typeof r.status === 'string' && Array.isArray(r.history);
}

export class ExecutionStore {
  private readonly snapshots: JsonRecordDir<ExecutionRecord>;
  private readonly journal: Journal<ExecutionEntry> | undefined;

  constructor(
    dir: string | undefined,
    private readonly options: { fsync?: boolean; warn: Warn },
  ) {
    if (dir) ensurePrivateDir(dir);
    this.snapshots = new JsonRecordDir(dir);
    this.journal = dir ? new Journal(join(dir, 'journal.jsonl'), options) : undefined;
  }

  started(record: ExecutionRecord): void {
    const { history: _history, ...rest } = record;
    this.touch(record);
    this.append({ op: 'started', record: rest });
  }

  callback(record: ExecutionRecord, outcome: CallbackOutcome): void {
    record.callbacks ??= [];
    record.callbacks.push(outcome);
    this.touch(record);
    this.append({ op: 'callback', executionArn: record.executionArn, index: record.callbacks.length - 1, outcome });
  }

  closed(record: ExecutionRecord): void {
    delete record.callbacks;
    this.touch(record);
    const { executionArn, status, output, error, cause } = record;
    this.append({ op: 'closed', executionArn, status, output, error, cause, stopDate: record.stopDate ?? Date.now() });
  }

  /** The record changed in ways a restart may forget (history): its snapshot is rewritten shortly. */
  touch(record: ExecutionRecord): void {
    this.snapshots.touch(record.executionArn, record);
  }

  /** Resolves once every acknowledged change is on disk (waits only with fsync). */
  durable(): Promise<void> {
    return this.journal?.durable() ?? Promise.resolve();
  }

  /**
   * Every execution: the snapshots with the journal applied. `journaled` are the journal's entries, for what
   * must be announced again in case the process died before it was (status change events).
   */
  load(): { records: ExecutionRecord[]; journaled: ExecutionEntry[] } {
    const byArn = new Map<string, ExecutionRecord>();
    for (const record of this.snapshots.loadAll(this.options.warn, isRecord)) byArn.set(record.executionArn, record);
    const journaled = this.journal?.read() ?? [];
    for (const entry of journaled) {
      if (entry.op === 'started') {
        if (!byArn.has(entry.record.executionArn)) byArn.set(entry.record.executionArn, { ...entry.record, history: [] });
        continue;
      }
      const record = byArn.get(entry.executionArn);
      if (!record || record.status !== 'RUNNING') continue;
      if (entry.op === 'callback') {
        record.callbacks ??= [];
        // The snapshot may have been written after the outcome already.
        if (record.callbacks.length === entry.index) record.callbacks.push(entry.outcome);
      } else {
        const { status, output, error, cause, stopDate } = entry;
        Object.assign(record, { status, output, error, cause, stopDate });
        delete record.callbacks;
        if (status !== 'RUNNING' && record.history.at(-1)?.type !== closingEventType(status)) {
          const details = status === 'SUCCEEDED' ? { output, outputDetails: NOT_TRUNCATED } : { error, cause };
          new History(record.history).add(closingEventType(status), details, stopDate);
        }
      }
      this.touch(record);
    }
    return { records: [...byArn.values()], journaled };
  }

  /** Write every changed record's snapshot now and empty the journal, whose entries they now hold. */
  fold(): void {
    this.snapshots.flush({ fsync: this.options.fsync });
    this.journal?.rewrite([]);
  }

  close(): void {
    this.snapshots.flush({ fsync: this.options.fsync });
    this.journal?.close();
  }

  private append(entry: ExecutionEntry): void {
    if (!this.journal) return;
    this.journal.append(entry);
    if (this.journal.bytes > FOLD_AT_BYTES) this.fold();
  }
}
