/**
 * Ask a human, get a Decision: `review()` waits for one, `start()` returns a handle to wait on, check or
 * cancel, and `gate()` wraps a tool so each call asks first. A "no" is a Decision, never an exception.
 */
import { createHash } from 'node:crypto';
import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { Decision, ReviewRequest, type ReviewRequest as ReviewRequestType } from './contract.ts';
import { resolveConfig, type HitlOptions } from './config.ts';
import { gate, type GateRule, type ToolArgs, type ToolCallOptions } from './gate.ts';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE';

/** The execution failed: the request was invalid (`InvalidRequestError`, `DuplicateRequestError`) or hitl broke. */
export class ReviewFailedError extends Error {
  constructor(
    readonly executionArn: string,
    readonly error: string | undefined,
    readonly causeText: string | undefined,
  ) {
    super(`Review ${executionArn} failed: ${error ?? 'unknown error'}${causeText ? `: ${causeText}` : ''}`);
    this.name = 'ReviewFailedError';
  }
}

/** `wait()` gave up (timeout or abort signal); the review itself goes on. */
export class ReviewWaitAbortedError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReviewWaitAbortedError';
  }
}

export interface WaitOptions {
  signal?: AbortSignal;
  /** Give up waiting after this many ms (the review goes on; wait again or cancel). */
  timeout?: number;
}

/** The request id the stack gives a request: from agent and idempotency key, else from the execution. */
export function requestIdOf(request: Pick<ReviewRequestType, 'agent' | 'idempotencyKey'>, executionArn: string): string {
  const source = request.idempotencyKey === undefined ? executionArn : `${request.agent}\n${request.idempotencyKey}`;
  return `r${createHash('sha256').update(source, 'utf8').digest('hex').slice(0, 24)}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class ReviewHandle {
  constructor(
    private readonly sfn: SFNClient,
    readonly executionArn: string,
    readonly request: ReviewRequestType,
    private readonly poll: { min: number; max: number },
  ) {}

  /** The id hitl gives this request (the review link and the decision log use it). */
  get requestId(): string {
    return requestIdOf(this.request, this.executionArn);
  }

  async status(): Promise<ExecutionStatus> {
    const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn }));
    return out.status as ExecutionStatus;
  }

  /** Stop the execution: hitl cancels its pending request, and `wait()` returns a `cancelled` Decision. */
  async cancel(reason = 'cancelled by the agent'): Promise<void> {
    await this.sfn.send(new StopExecutionCommand({ executionArn: this.executionArn, error: 'Agent.Cancelled', cause: reason }));
  }

  /** Poll DescribeExecution (with backoff) until the execution ends; the Decision it ended with. */
  async wait(options: WaitOptions = {}): Promise<Decision> {
    const signals = [options.signal, options.timeout === undefined ? undefined : AbortSignal.timeout(options.timeout)].filter((s): s is AbortSignal => !!s);
    const signal = signals.length ? AbortSignal.any(signals) : undefined;
    let pause = this.poll.min;
    try {
      for (;;) {
        signal?.throwIfAborted();
        const out = await this.sfn.send(new DescribeExecutionCommand({ executionArn: this.executionArn }), { abortSignal: signal });
        if (out.status === 'SUCCEEDED') return Decision.parse(JSON.parse(out.output ?? 'null'));
        if (out.status === 'ABORTED') {
          const requestedAt = (out.startDate ?? new Date()).toISOString();
          const decidedAt = (out.stopDate ?? new Date()).toISOString();
          return {
            requestId: this.requestId,
            kind: this.request.kind,
            outcome: 'cancelled',
            decidedBy: 'execution:stopped',
            reason: out.cause ?? out.error ?? 'the review execution was stopped',
            tier: 1,
            requestedAt,
            decidedAt,
            latencyMs: Math.max(0, Date.parse(decidedAt) - Date.parse(requestedAt)),
          };
        }
        if (out.status !== 'RUNNING' && out.status !== 'PENDING_REDRIVE') throw new ReviewFailedError(this.executionArn, out.error ?? out.status, out.cause);
        await sleep(pause, signal);
        pause = Math.min(this.poll.max, Math.round(pause * 1.5));
      }
    } catch (err) {
      if (signal?.aborted) {
        throw new ReviewWaitAbortedError(`Stopped waiting for ${this.executionArn}: ${options.signal?.aborted ? 'aborted' : `no decision within ${options.timeout} ms`}`, { cause: err });
      }
      throw err;
    }
  }
}

export class Hitl {
  readonly stateMachineArn: string;
  readonly sfn: SFNClient;
  private readonly poll: { min: number; max: number };

  constructor(options: HitlOptions = {}) {
    const config = resolveConfig(options);
    this.stateMachineArn = config.stateMachineArn;
    this.sfn = config.sfn;
    this.poll = { min: options.poll?.min ?? 250, max: options.poll?.max ?? 5000 };
  }

  /** Start a review; the request is checked for shape here and fully by hitl. */
  async start(request: ReviewRequestType): Promise<ReviewHandle> {
    const parsed = ReviewRequest.parse(request);
    const out = await this.sfn.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, input: JSON.stringify(parsed) }));
    return new ReviewHandle(this.sfn, out.executionArn!, parsed, this.poll);
  }

  /** Start a review and wait for its Decision. */
  async review(request: ReviewRequestType, options: WaitOptions = {}): Promise<Decision> {
    return (await this.start(request)).wait(options);
  }

  /** Wrap a tool so each call asks first; see `gate`. */
  gate<A extends ToolArgs, R>(tool: (args: A, call?: ToolCallOptions) => Promise<R>, rule: GateRule<A>): (args: A, call?: ToolCallOptions) => Promise<R | string> {
    return gate(this, tool, rule);
  }
}
