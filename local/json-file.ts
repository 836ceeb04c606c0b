/**
 * JSON state files under the state directory: readable by their owner only, written atomically so a crash
 * never leaves half a file, and set aside (not fatal) when they cannot be read.
 */
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** State files hold signing keys, task inputs and review links: owner read/write only. */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

/** Where a state file's problems are reported (the stack's log). */
export type Warn = (line: string) => void;

/** Create a state directory (and its parents) for its owner only; tighten one that already exists. */
export function ensurePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: DIR_MODE });
  try {
    chmodSync(path, DIR_MODE);
  } catch {
    // Not ours to change (a shared parent); what we create inside is still private.
  }
}

/** Rename an unreadable state file to `<file>.corrupt-<UTC timestamp>` and return the new path. */
export function setAside(path: string): string {
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  const aside = `${path}.corrupt-${stamp}`;
  renameSync(path, aside);
  return aside;
}

/**
 * Read a JSON file; `fallback` when it does not exist. An unreadable file (truncated, garbage) throws, or with
 * `warn` is set aside and reads as `fallback`, so one bad file does not keep the stack from starting.
 */
export function readJsonFile<T>(path: string, fallback: T, warn?: Warn): T {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw err;
  }
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    if (!warn) throw new Error(`${path} is not valid JSON; fix or delete it`, { cause: err });
    warn(`${path} is not valid JSON (${(err as Error).message}); set aside as ${setAside(path)}, starting without it`);
    return fallback;
  }
}

export function writeFully(fd: number, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** The directory entry of a renamed or created file survives power loss only once its directory is synced. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Replace a file atomically (write a temporary file, rename it over); with `fsync`, on disk before returning. */
export function writeTextFile(path: string, text: string, options: { fsync?: boolean } = {}): void {
  const tmp = `${path}.${process.pid}.tmp`;
  let fd: number;
  try {
    fd = openSync(tmp, 'w', FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    ensurePrivateDir(dirname(path));
    fd = openSync(tmp, 'w', FILE_MODE);
  }
  try {
    writeFully(fd, text);
    if (options.fsync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (options.fsync) fsyncDir(dirname(path));
}

export function writeJsonFile(path: string, data: unknown, options: { fsync?: boolean } = {}): void {
  writeTextFile(path, `${JSON.stringify(data, null, 2)}\n`, options);
}

/**
 * One JSON file per record in a directory, each rewritten shortly after its record changes: the cost of a
 * change does not grow with the number of records. What must survive a crash goes to a journal first; these
 * files are the compact form the journal is folded into. Changes within a second share one write: a short
 * execution is written once or twice rather than at every step.
 */
export class JsonRecordDir<T> {
  private readonly dirty = new Map<string, T>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string | undefined,
    private readonly delayMs = 1000,
  ) {}

  private fileOf(key: string): string {
    return join(this.dir!, `${createHash('sha256').update(key).digest('hex').slice(0, 40)}.json`);
  }

  touch(key: string, record: T): void {
    if (!this.dir) return;
    this.dirty.set(key, record);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  flush(options: { fsync?: boolean } = {}): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [key, record] of this.dirty) writeJsonFile(this.fileOf(key), record, options);
    this.dirty.clear();
  }

  /** Every record on disk; a file that is not JSON or not a record is set aside (its record may still be in a journal). */
  loadAll(warn: Warn, valid: (value: unknown) => value is T): T[] {
    if (!this.dir || !existsSync(this.dir)) return [];
    const records: T[] = [];
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.json'))) {
      const path = join(this.dir, file);
      const value = readJsonFile<unknown>(path, undefined, warn);
      if (valid(value)) records.push(value);
      else if (value !== undefined) warn(`${path} does not hold a record; set aside as ${setAside(path)}`);
    }
    return records;
  }
}
