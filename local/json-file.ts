/** JSON state files under the state directory, written atomically so a crash never leaves half a file. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function readJsonFile<T>(path: string, fallback: T): T {
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
    throw new Error(`${path} is not valid JSON; fix or delete it`, { cause: err });
  }
}

export function writeJsonFile(path: string, data: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`);
  renameSync(tmp, path);
}

/**
 * A file rewritten from `snapshot()` shortly after each `touch()`; bursts of changes cost one write.
 * `flush()` writes now (on shutdown, and where a test needs the file current).
 */
export class JsonSnapshotFile {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string | undefined,
    private readonly delayMs: number,
    private readonly snapshot: () => unknown,
  ) {}

  touch(): void {
    if (!this.path || this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs);
    this.timer.unref();
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.path) writeJsonFile(this.path, this.snapshot());
  }
}

/**
 * One JSON file per record in a directory, each rewritten shortly after its record changes: the cost of a
 * change does not grow with the number of records.
 */
export class JsonRecordDir<T> {
  private readonly dirty = new Map<string, T>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dir: string | undefined,
    private readonly delayMs = 50,
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

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const [key, record] of this.dirty) writeJsonFile(this.fileOf(key), record);
    this.dirty.clear();
  }

  loadAll(): T[] {
    if (!this.dir || !existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => readJsonFile<T>(join(this.dir!, f), undefined as never));
  }
}
