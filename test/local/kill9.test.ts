/**
 * kill -9 during a burst of StartExecution, the short form of `npm run trial:kill9`: the stack runs as a child
 * process, is killed with SIGKILL while calls are in flight, and started again on the same state directory.
 * Every acknowledged execution must exist and open its review (PENDING row, reviewers emailed).
 */
import { describe, expect, it } from 'vitest';
import { kill9ApprovalsCycle } from '#local/trials/kill9-approvals.ts';
import { kill9Cycle } from '#local/trials/kill9.ts';

/** A fixed sequence, so each cycle kills at the same point of its burst every run. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('kill -9 of the local stack during a burst of StartExecution', () => {
  it.each([
    ['early in the burst', 0.1, false],
    ['late in the burst, with --fsync', 0.7, true],
  ])('loses no acknowledged execution when killed %s', async (_, at, fsync) => {
    const result = await kill9Cycle({ burst: 40, concurrency: 8, fsync, random: sequence(at, 0.5), tag: fsync ? 'late' : 'early', log: (line) => console.log(line) });
    expect(result.acknowledged).toBeGreaterThanOrEqual(result.killedAfterAcks);
    // The kill came during the burst: some calls never got an answer.
    expect(result.unanswered).toBeGreaterThan(0);
    expect(result.lost).toEqual([]);
    expect(result.stuck).toEqual([]);
    expect(result.checked).toBe(result.acknowledged + result.cutOffStarted);
  }, 240_000);
});

describe('kill -9 of the local stack during a burst of approvals', () => {
  it('ends every request with one final state and event, and every execution with the stored Decision (npm run trial:kill9:approvals)', async () => {
    const result = await kill9ApprovalsCycle({ requests: 20, concurrency: 8, random: sequence(0.4, 0.5), tag: 'approvals', log: (line) => console.log(line) });
    expect(result.violations).toEqual([]);
    expect(result.approvedBeforeKill).toBeGreaterThan(0);
    expect(result.unanswered).toBeGreaterThan(0);
    expect(result.settled).toBe(20);
  }, 240_000);
});
