/**
 * Where schedules are kept: `schedules.json` holds them all as of the last fold; `schedules.jsonl` the changes
 * since, each written before the API answers (create, update, delete) or once a delivery is done. Loading
 * applies the changes and folds them into the snapshot.
 */
import { ensurePrivateDir, readJsonFile, writeJsonFile, type Warn } from '../json-file.ts';
import { Journal } from '../journal.ts';
import { dirname } from 'node:path';
import type { Schedule } from './engine.ts';

/** A schedule with the time it is next due (clock ms), as a restart must see it. */
export type StoredSchedule = Schedule & { nextFireAt?: number };

type ScheduleEntry =
  | { op: 'put'; schedule: StoredSchedule }
  | { op: 'delete'; key: string }
  /** A delivery finished (or was dead-lettered): the schedule is next due then, or never. */
  | { op: 'fired'; key: string; nextFireAt?: number };

interface Snapshot {
  version: 1;
  schedules: StoredSchedule[];
}

/** Past this size the journal is folded into the snapshot while running. */
const FOLD_AT_BYTES = 1024 * 1024;

export function scheduleKey(group: string, name: string): string {
  return `${group}/${name}`;
}

export class ScheduleStore {
  private readonly journal: Journal<ScheduleEntry> | undefined;

  constructor(
    private readonly file: string | undefined,
    private readonly options: { fsync?: boolean; warn: Warn },
  ) {
    if (!file) return;
    ensurePrivateDir(dirname(file));
    this.journal = new Journal(file.replace(/\.json$/, '') + '.jsonl', options);
  }

  load(): StoredSchedule[] {
    if (!this.file) return [];
    const snapshot = readJsonFile<Partial<Snapshot>>(this.file, { version: 1, schedules: [] }, this.options.warn);
    const byKey = new Map<string, StoredSchedule>();
    for (const s of Array.isArray(snapshot.schedules) ? snapshot.schedules : []) byKey.set(scheduleKey(s.GroupName, s.Name), s);
    for (const entry of this.journal!.read()) {
      if (entry.op === 'put') byKey.set(scheduleKey(entry.schedule.GroupName, entry.schedule.Name), entry.schedule);
      else if (entry.op === 'delete') byKey.delete(entry.key);
      else {
        const schedule = byKey.get(entry.key);
        if (schedule) schedule.nextFireAt = entry.nextFireAt;
      }
    }
    return [...byKey.values()];
  }

  put(schedule: StoredSchedule): void {
    this.journal?.append({ op: 'put', schedule });
  }

  delete(key: string): void {
    this.journal?.append({ op: 'delete', key });
  }

  fired(key: string, nextFireAt: number | undefined): void {
    this.journal?.append({ op: 'fired', key, nextFireAt });
  }

  /** Whether the journal has grown enough to be folded into the snapshot. */
  get due(): boolean {
    return (this.journal?.bytes ?? 0) > FOLD_AT_BYTES;
  }

  /** Write every schedule to the snapshot and empty the journal. */
  fold(schedules: readonly StoredSchedule[]): void {
    if (!this.file) return;
    writeJsonFile(this.file, { version: 1, schedules: [...schedules] } satisfies Snapshot, { fsync: this.options.fsync });
    this.journal!.rewrite([]);
  }

  durable(): Promise<void> {
    return this.journal?.durable() ?? Promise.resolve();
  }

  close(): void {
    this.journal?.close();
  }
}
