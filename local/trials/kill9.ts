/**
 * One kill -9 cycle: start the local stack as a child on a fresh state directory, send a burst of
 * StartExecution calls, SIGKILL the child at a random moment during the burst, start it again on the same
 * state directory and ports, and check that every acknowledged execution exists and proceeds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBurst, trialExecutions, type BurstOutcome, type TrialExecution } from './burst.ts';
import { checkExecutionsProceed, type ProceedCheck } from './checks.ts';
import { startChildStack, type ChildStack } from './child-stack.ts';

export interface Kill9Options {
  /** StartExecution calls in the burst. */
  burst: number;
  concurrency: number;
  /** Passed to the child: acknowledge only what is synced to disk. */
  fsync?: boolean;
  cdkOutDir?: string;
  /** How long the restarted stack has to open every request. @default 60 s */
  checkTimeoutMs?: number;
  /** Keep the state directory (it is kept anyway when something was lost or stuck). */
  keepState?: boolean;
  /** Random numbers in [0, 1); a seeded one makes a cycle repeatable. @default Math.random */
  random?: () => number;
  /** Tags execution names, so cycles on one state directory do not collide. @default 'k9' */
  tag?: string;
  log?: (line: string) => void;
}

export interface Kill9Result extends ProceedCheck {
  stateDir: string;
  sent: number;
  acknowledged: number;
  /** Calls the kill cut off (sent, never answered) and calls refused after it. */
  unanswered: number;
  /** The kill came after this many acknowledgements, and this long after the burst began. */
  killedAfterAcks: number;
  killedAtMs: number;
  /** Acknowledgements per second before the kill. */
  acksPerSecond: number;
  restartMs: number;
}

export async function kill9Cycle(options: Kill9Options): Promise<Kill9Result> {
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => undefined);
  const stateDir = mkdtempSync(join(tmpdir(), 'hitl-kill9-'));
  let stack: ChildStack | undefined;
  let keep = options.keepState ?? false;
  try {
    stack = await startChildStack({ stateDir, cdkOutDir: options.cdkOutDir, fsync: options.fsync });
    const first = stack;
    const executions = trialExecutions(stack, options.tag ?? 'k9', options.burst);
    // Kill once a random number of calls has been acknowledged, after a random few milliseconds more.
    const killAfterAcks = 1 + Math.floor(random() * Math.max(1, options.burst - 1));
    const jitterMs = random() * 15;
    const burstStarted = performance.now();
    let killedAtMs = 0;
    let killing: Promise<void> | undefined;
    const outcomes: BurstOutcome<TrialExecution>[] = await startBurst(stack, executions, options.concurrency, (_, acked) => {
      if (acked !== killAfterAcks) return;
      killing = new Promise((r) => setTimeout(r, jitterMs)).then(() => {
        killedAtMs = performance.now() - burstStarted;
        return first.kill('SIGKILL');
      });
    });
    // A burst too short to reach the mark still ends in a kill.
    killing ??= ((killedAtMs = performance.now() - burstStarted), first.kill('SIGKILL'));
    await killing;
    // An answer read after the kill was still sent before it: acknowledged all the same.
    const acknowledged = outcomes.filter((o) => o.acknowledged);
    const unanswered = outcomes.filter((o) => !o.acknowledged);
    log(`killed after ${acknowledged.length} acknowledged of ${outcomes.length} sent (${killedAtMs.toFixed(0)} ms into the burst)`);

    const restartStarted = performance.now();
    stack = await first.restart();
    const restartMs = performance.now() - restartStarted;
    const check = await checkExecutionsProceed(
      stack,
      acknowledged.map((o) => o.item),
      unanswered.map((o) => o.item),
      options.checkTimeoutMs,
    );
    if (check.lost.length || check.stuck.length) keep = true;
    const beforeKill = acknowledged.length > 0 ? Math.max(...acknowledged.map((o) => o.answeredAt! - burstStarted)) : 0;
    return {
      stateDir,
      sent: outcomes.length,
      acknowledged: acknowledged.length,
      unanswered: unanswered.length,
      killedAfterAcks: killAfterAcks,
      killedAtMs,
      acksPerSecond: beforeKill > 0 ? acknowledged.length / (beforeKill / 1000) : 0,
      restartMs,
      ...check,
    };
  } catch (err) {
    keep = true;
    if (stack) log(`local stack output:\n${stack.output()}`);
    throw err;
  } finally {
    await stack?.stop().catch(() => undefined);
    if (keep) log(`state directory kept: ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true, maxRetries: 3 });
  }
}
