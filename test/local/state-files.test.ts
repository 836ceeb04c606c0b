/**
 * The state directory: private files and directories, and damaged files set aside (named in a message)
 * rather than keeping the stack from starting.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

/** Every file and directory under `dir`, except inside DynamoDB Local's database directory (its own files). */
function walk(dir: string, root = dir): { path: string; mode: number; directory: boolean }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    const here = { path: relative(root, path), mode: statSync(path).mode & 0o777, directory: entry.isDirectory() };
    if (!entry.isDirectory() || relative(root, path) === 'dynamodb') return [here];
    return [here, ...walk(path, root)];
  });
}

describe('the state directory', () => {
  let stack: TestStack;
  const messages: string[] = [];

  beforeAll(async () => {
    stack = await startTestStack({ log: (line) => messages.push(line) });
    const input = JSON.stringify(DEMO_REQUEST);
    await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name: 'before', input }));
    await stack.waitForEmails((e) => e.destination.to.includes('lead@example.com'));
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('holds files readable by their owner only (0600) in directories only the owner can enter (0700)', async () => {
    // An execution's snapshot is written within a second of its last change (the journal holds it until then).
    await vi.waitFor(() => expect(walk(stack.stateDir).some((e) => /^executions\/[0-9a-f]{40}\.json$/.test(e.path))).toBe(true), { timeout: 10_000, interval: 100 });
    const entries = walk(stack.stateDir);
    const names = entries.map((e) => e.path);
    for (const expected of ['local.json', 'signing-keys.json', 'executions/journal.jsonl', 'schedules.json', 'schedules.jsonl', 'mail.jsonl', 'events.jsonl']) {
      expect(names).toContain(expected);
    }
    expect(names.filter((n) => /^executions\/[0-9a-f]{40}\.json$/.test(n)).length).toBeGreaterThan(0);
    expect(statSync(stack.stateDir).mode & 0o777).toBe(0o700);
    expect(entries.filter((e) => e.directory && e.mode !== 0o700)).toEqual([]);
    expect(entries.filter((e) => !e.directory && e.mode !== 0o600)).toEqual([]);
  });

  it('sets aside damaged state files, says which, and starts without them', async () => {
    await stack.stop({ keepState: true });
    const dir = stack.stateDir;
    const snapshot = readdirSync(join(dir, 'executions')).find((f) => f.endsWith('.json'))!;
    const damaged = {
      [`executions/${snapshot}`]: () => writeFileSync(join(dir, 'executions', snapshot), 'garbage'),
      'executions/journal.jsonl': () => appendFileSync(join(dir, 'executions/journal.jsonl'), 'not json\n{"op":"closed"}\n'),
      'schedules.json': () => {
        const text = readFileSync(join(dir, 'schedules.json'), 'utf8');
        writeFileSync(join(dir, 'schedules.json'), text.slice(0, text.length / 2));
      },
      'mail.jsonl': () => appendFileSync(join(dir, 'mail.jsonl'), '{"messageId":"cut sho'),
      'signing-keys.json': () => writeFileSync(join(dir, 'signing-keys.json'), '{"current":"k1","k1":'),
      'events.jsonl': () => writeFileSync(join(dir, 'events.jsonl'), '\u0000\u0001 binary garbage\n'),
      'schedule-dlq.json': () => writeFileSync(join(dir, 'schedule-dlq.json'), '[{"scheduleArn":'),
    };
    for (const damage of Object.values(damaged)) damage();
    messages.length = 0;

    stack = await startTestStack({ stateDir: dir, ports: stack.ports, log: (line) => messages.push(line) });
    for (const file of Object.keys(damaged)) {
      const path = join(dir, file);
      const message = messages.find((m) => m.includes(path) && m.includes('set aside'));
      expect(message, `a message naming ${file}`).toBeDefined();
      const aside = /set aside as (\S+?),?(\s|$)/.exec(message!)![1]!;
      expect(aside).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.corrupt-\\d{8}T\\d{9}Z$`));
      expect(existsSync(aside)).toBe(true);
    }
    // The emails before the damaged line are still in the viewer; the stack serves new requests.
    expect((await stack.emails()).length).toBeGreaterThanOrEqual(2);
    await stack.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name: 'after', input: JSON.stringify({ ...DEMO_REQUEST, action: { name: 'refund', args: { order_id: 'O-after' } } }) }),
    );
    const [email] = await stack.waitForEmails((e) => e.destination.to.includes('lead@example.com') && e.body.text!.includes('O-after'));
    expect(stack.reviewLinks(email!)).toHaveLength(1);
    // A new key ring was generated in place of the damaged one.
    expect(JSON.parse(readFileSync(join(dir, 'signing-keys.json'), 'utf8'))).toMatchObject({ current: 'k1', k1: expect.stringMatching(/^.{64}$/) });
  });
});
