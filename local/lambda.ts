/**
 * Runs the stack's Lambda handlers in this process, the way the Lambda service would call them: a JSON copy
 * of the event, a Lambda-like context, the function's timeout, and an unhandled error reported by its name.
 */
import { randomUUID } from 'node:crypto';
import { functionArn, functionNameOf } from './aws-ids.ts';

export type LambdaHandler = (event: unknown, context: LambdaContext) => unknown;

export interface LambdaContext {
  callbackWaitsForEmptyEventLoop: boolean;
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  getRemainingTimeInMillis(): number;
  done(): void;
  fail(): void;
  succeed(): void;
}

export interface LocalFunction {
  /** The function name; the template's logical ID for functions of the stack. */
  name: string;
  /** The handler itself, or `load` to import it once, on first use or by `LocalLambda.load()`. */
  handler?: LambdaHandler;
  load?: () => Promise<LambdaHandler>;
  timeoutSeconds?: number;
  memoryMb?: number;
}

/** An unhandled error in a handler, as Lambda reports it: `errorType` is the thrown error's `name`. */
export class LambdaInvocationError extends Error {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace: string[];

  constructor(errorType: string, errorMessage: string, trace: string[] = []) {
    super(errorMessage);
    this.name = errorType;
    this.errorType = errorType;
    this.errorMessage = errorMessage;
    this.trace = trace;
  }

  /** The document Lambda returns for an unhandled error; Step Functions puts it, as text, in the Cause. */
  toPayload(): { errorType: string; errorMessage: string; trace: string[] } {
    return { errorType: this.errorType, errorMessage: this.errorMessage, trace: this.trace };
  }

  static from(err: unknown): LambdaInvocationError {
    if (err instanceof LambdaInvocationError) return err;
    if (err instanceof Error) {
      return new LambdaInvocationError(err.name || 'Error', err.message, (err.stack ?? '').split('\n').map((l) => l.trim()));
    }
    return new LambdaInvocationError('Error', typeof err === 'string' ? err : JSON.stringify(err) ?? String(err));
  }
}

/** Invoking a function the local stack does not have; the Lambda API's name for it. */
export class FunctionNotFoundError extends Error {
  constructor(nameOrArn: string) {
    super(`Function not found: ${nameOrArn}`);
    this.name = 'ResourceNotFoundException';
  }
}

export interface InvocationRecord {
  functionName: string;
  durationMs: number;
  error?: string;
}

function jsonCopy(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(JSON.stringify(value)) as unknown;
}

export class LocalLambda {
  private readonly functions = new Map<string, LocalFunction>();
  private readonly loaded = new Map<string, Promise<LambdaHandler>>();
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    functions: readonly LocalFunction[],
    private readonly options: { enforceTimeouts?: boolean; onInvoke?: (record: InvocationRecord) => void } = {},
  ) {
    for (const fn of functions) this.functions.set(fn.name, fn);
  }

  names(): string[] {
    return [...this.functions.keys()];
  }

  has(nameOrArn: string): boolean {
    return this.functions.has(functionNameOf(nameOrArn));
  }

  /** Load every handler now, in order (each may read its environment at module scope). */
  async load(): Promise<void> {
    for (const name of this.functions.keys()) await this.handlerOf(name);
  }

  private handlerOf(name: string): Promise<LambdaHandler> {
    let handler = this.loaded.get(name);
    if (!handler) {
      const fn = this.functions.get(name);
      if (!fn) throw new FunctionNotFoundError(name);
      if (fn.handler) handler = Promise.resolve(fn.handler);
      else if (fn.load) handler = fn.load();
      else throw new Error(`Function ${name} has neither a handler nor a loader`);
      this.loaded.set(name, handler);
    }
    return handler;
  }

  /** Resolves when no invocation is running (or after `timeoutMs`): lets a shutdown finish what started. */
  async idle(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    }
  }

  /**
   * Invoke synchronously (RequestResponse). Resolves with the JSON result; rejects with a
   * LambdaInvocationError named after the handler's error, or `Sandbox.Timedout` past the function's timeout.
   */
  async invoke(nameOrArn: string, payload: unknown): Promise<unknown> {
    const name = functionNameOf(nameOrArn);
    const fn = this.functions.get(name);
    if (!fn) throw new FunctionNotFoundError(nameOrArn);
    const handler = await this.handlerOf(name);
    const timeoutMs = (fn.timeoutSeconds ?? 3) * 1000;
    const started = Date.now();
    const context: LambdaContext = {
      callbackWaitsForEmptyEventLoop: true,
      functionName: name,
      functionVersion: '$LATEST',
      invokedFunctionArn: functionArn(name),
      memoryLimitInMB: String(fn.memoryMb ?? 128),
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/${name}`,
      logStreamName: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const run = Promise.resolve().then(() => handler(jsonCopy(payload), context));
      this.running.add(run);
      void run.then(
        () => this.running.delete(run),
        () => this.running.delete(run),
      );
      const timeout = new Promise<never>((_, reject) => {
        if (this.options.enforceTimeouts === false) return;
        timer = setTimeout(() => reject(new LambdaInvocationError('Sandbox.Timedout', `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)), timeoutMs);
      });
      const result = jsonCopy(await Promise.race([run, timeout]));
      this.options.onInvoke?.({ functionName: name, durationMs: Date.now() - started });
      return result;
    } catch (err) {
      const error = LambdaInvocationError.from(err);
      this.options.onInvoke?.({ functionName: name, durationMs: Date.now() - started, error: `${error.errorType}: ${error.errorMessage}` });
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}
