import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Journal } from '#local/journal.ts';

describe('journal (append-only JSON Lines)', () => {
  let dir: string;
  let warnings: string[];
  const open = (fsync = false) => new Journal<{ n: number }>(join(dir, 'j.jsonl'), { fsync, warn: (line) => warnings.push(line) });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-journal-'));
    warnings = [];
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has each entry in the file as soon as append returns, in a file only its owner can read', () => {
    const journal = open();
    journal.append({ n: 1 });
    expect(readFileSync(join(dir, 'j.jsonl'), 'utf8')).toBe('{"n":1}\n');
    journal.append({ n: 2 });
    expect(open().read()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(statSync(join(dir, 'j.jsonl')).mode & 0o777).toBe(0o600);
    journal.close();
  });

  it('with fsync, durable() resolves once the writes are synced; concurrent waiters share a sync', async () => {
    const journal = open(true);
    for (let n = 0; n < 50; n++) journal.append({ n });
    expect(journal.pending).toBe(true);
    await Promise.all(Array.from({ length: 50 }, () => journal.durable()));
    expect(journal.pending).toBe(false);
    journal.close();
  });

  it('drops an incomplete last line (a cut-short write), keeps a copy, and rewrites the rest', () => {
    const journal = open();
    journal.append({ n: 1 });
    journal.close();
    appendFileSync(join(dir, 'j.jsonl'), '{"n":');
    const again = open();
    expect(again.read()).toEqual([{ n: 1 }]);
    expect(warnings[0]).toMatch(/incomplete last line.*set aside as .*j\.jsonl\.corrupt-\d{8}T\d{9}Z/);
    expect(readFileSync(join(dir, 'j.jsonl'), 'utf8')).toBe('{"n":1}\n');
    // New entries follow a whole line, not the broken one.
    again.append({ n: 2 });
    expect(open().read()).toEqual([{ n: 1 }, { n: 2 }]);
    expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(1);
  });

  it('sets a damaged file aside and keeps its readable entries', () => {
    appendFileSync(join(dir, 'j.jsonl'), '{"n":1}\ngarbage\n{"n":3}\n');
    expect(open().read()).toEqual([{ n: 1 }, { n: 3 }]);
    expect(warnings[0]).toMatch(/1 unreadable line\(s\); set aside as .*keeping its 2 readable entries/);
  });

  it('rewrite replaces the file atomically, and appends go on after it', () => {
    const journal = open();
    journal.append({ n: 1 });
    journal.rewrite([{ n: 9 }]);
    journal.append({ n: 10 });
    expect(open().read()).toEqual([{ n: 9 }, { n: 10 }]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(join(dir, 'j.jsonl'))).toBe(true);
    journal.close();
  });
});
