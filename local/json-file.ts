/** JSON state files under the state directory, written atomically so a crash never leaves half a file. */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

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
    private readonly snapshot: () => unknown,
    private readonly delayMs = 25,
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
