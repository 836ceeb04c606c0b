/**
 * An append-only JSON Lines file: what the local services must not forget once they have answered. Each entry
 * is one write() before the caller answers, so killing the process loses nothing acknowledged (written pages
 * belong to the OS, not the process). With `fsync`, `durable()` also waits until the disk has them, which
 * survives power loss: one fdatasync covers every entry written meanwhile, so concurrent callers share it.
 */
import { closeSync, fdatasync, fdatasyncSync, openSync, readFileSync, statSync } from 'node:fs';
import { FILE_MODE, setAside, writeFully, writeTextFile, type Warn } from './json-file.ts';

export interface JournalOptions {
  /** Wait for the disk in `durable()` (power-loss durability); otherwise a write to the OS is enough. */
  fsync?: boolean;
  warn: Warn;
}

export class Journal<E> {
  private fd: number | undefined;
  private written = 0;
  private synced = 0;
  private syncing: Promise<void> | undefined;
  /** Descriptors replaced while a sync on them was running; closed when it ends. */
  private retired: number[] = [];
  /** Size of the file in bytes, for deciding when to fold it into a snapshot. */
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly options: JournalOptions,
  ) {}

  /**
   * Every entry in the file. A line that is not JSON (damage), or a last line without its newline (a write cut
   * short by power loss), is dropped: the file is set aside and rewritten with the readable entries, so new
   * entries never follow a broken line.
   */
  read(): E[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    this.bytes = Buffer.byteLength(text);
    const lines = text.split('\n');
    const tail = lines.pop()!;
    const entries: E[] = [];
    let unreadable = 0;
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        entries.push(JSON.parse(line) as E);
      } catch {
        unreadable += 1;
      }
    }
    if (unreadable > 0 || tail !== '') {
      const what = unreadable > 0 ? `${unreadable} unreadable line(s)` : 'an incomplete last line (a write cut short)';
      this.options.warn(`${this.path} has ${what}; set aside as ${setAside(this.path)}, keeping its ${entries.length} readable entries`);
      this.rewrite(entries);
    }
    return entries;
  }

  /** Write one entry now (synchronously): once this returns, a killed process still has it. */
  append(entry: E): void {
    const line = `${JSON.stringify(entry)}\n`;
    this.fd ??= openSync(this.path, 'a', FILE_MODE);
    writeFully(this.fd, line);
    this.written += 1;
    this.bytes += Buffer.byteLength(line);
  }

  /** Resolves once everything appended so far is on disk (at once without `fsync`). */
  async durable(): Promise<void> {
    if (!this.options.fsync) return;
    while (this.synced < this.written) {
      if (!this.syncing) {
        const upTo = this.written;
        const fd = this.fd!;
        this.syncing = new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())))
          .then(() => {
            this.synced = Math.max(this.synced, upTo);
          })
          .finally(() => {
            this.syncing = undefined;
            for (const old of this.retired.splice(0)) closeSync(old);
          });
      }
      await this.syncing;
    }
  }

  /** Whether `durable()` would have to wait. */
  get pending(): boolean {
    return Boolean(this.options.fsync) && this.synced < this.written;
  }

  /** Replace the whole file with these entries, atomically (after folding the rest into a snapshot). */
  rewrite(entries: readonly E[]): void {
    this.close();
    writeTextFile(this.path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), { fsync: this.options.fsync });
    this.bytes = statSync(this.path).size;
  }

  close(): void {
    if (this.fd === undefined) return;
    if (this.options.fsync && this.synced < this.written) fdatasyncSync(this.fd);
    this.synced = this.written;
    if (this.syncing) this.retired.push(this.fd);
    else closeSync(this.fd);
    this.fd = undefined;
  }
}
