/**
 * Local Step Functions: runs executions of the stack's state machine definitions on aws-local-stepfunctions,
 * calls the in-process Lambda handlers for Task states, settles `.waitForTaskToken` tasks on SendTask*, runs
 * nested executions (`states:startExecution[.sync|.sync:2]`), keeps each execution's history, and persists
 * executions so a restart can replay the ones still running.
 * What the API acknowledges is on disk before it answers (see store.ts).
 */
import '../polyfills.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { LOCAL_REGION, executionArn as makeExecutionArn } from '../aws-ids.ts';
import type { Warn } from '../json-file.ts';
import { FunctionNotFoundError, LambdaInvocationError, type LocalLambda } from '../lambda.ts';
import { prepareDefinition, type Json, type JsonObject, type PreparedDefinition, type TaskInfo } from './definition.ts';
import { SfnApiError, StatesError } from './errors.ts';
import { History, NOT_TRUNCATED, closingEventType, dataText, stateEventType } from './history.ts';
import { childExecutionName, childFailed, childParameters, describeChild, startError, startedResult } from './nested.ts';
import { ExecutionStore, type CallbackOutcome, type ExecutionRecord, type ExecutionStatus } from './store.ts';

export type { ExecutionRecord, ExecutionStatus } from './store.ts';

export interface LocalStateMachine {
  arn: string;
  name: string;
  /** The definition as deployed (resolved from the template). */
  definition: JsonObject;
  roleArn: string;
}

export interface SfnEngineOptions {
  stateMachines: readonly LocalStateMachine[];
  lambda: Pick<LocalLambda, 'invoke'>;
  /** Directory where executions are persisted (a journal and one file each); omit to keep them in memory only. */
  executionsDir?: string;
  /** Wait for the disk (fsync) before acknowledging, not only for the OS: survives power loss, costs latency. */
  fsync?: boolean;
  /** Where each status change is announced (the local event bus), synchronously and durably. */
  statusEvents?: StatusEventSink;
  /** Pause before every Retry in milliseconds instead of IntervalSeconds/BackoffRate (tests). */
  retryIntervalMs?: number;
  log?: (line: string) => void;
}

/**
 * Receives every status change as it is recorded: RUNNING on start, then the closing status. It must have the
 * event on disk when `announce` returns, or by the time `durable()` resolves. After a restart, changes still in
 * the journal are announced again (with the same event id), since the process may have died in between.
 */
export interface StatusEventSink {
  announce(record: ExecutionRecord, status: ExecutionStatus): void;
  durable(): Promise<void>;
}

/** Step Functions' limit on execution input and output and on task output, in UTF-8 bytes. */
const MAX_PAYLOAD_BYTES = 256 * 1024;
const EXECUTION_ARN = /^arn:aws[a-z-]*:states:[^:]+:\d{12}:execution:[^:]+:[^:]+$/;
const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:[^:]+:\d{12}:stateMachine:[^:]+$/;
// Names may not contain whitespace, brackets, wildcards, these punctuation marks or control characters.
const INVALID_NAME = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;
const isControl = (name: string) => [...name].some((c) => c.charCodeAt(0) <= 0x1f || (c.charCodeAt(0) >= 0x7f && c.charCodeAt(0) <= 0x9f));

/** Thrown into a task that belongs to a stopped execution; Retry and Catch must not act on it. */
class ExecutionClosedError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;
  constructor() {
    super('The execution is no longer running');
    this.name = 'States.Runtime';
  }
}

interface TaskAttempt {
  run: Run;
  task: TaskInfo;
  token?: string;
  closed: boolean;
  /** The callback's handler has returned (or the nested execution has started); the task now waits. */
  submitted: boolean;
  settle?: { resolve: (value: Json) => void; reject: (error: Error) => void };
  heartbeat?: NodeJS.Timeout;
  /** Runs once when the attempt closes, however it closes. */
  onClose?: () => void;
}

interface Run {
  record: ExecutionRecord;
  history: History;
  abort?: () => void;
  attempts: Set<TaskAttempt>;
  unclaimedTokens: string[];
  inflight: number;
  closed: boolean;
  /** Set by shutdown: the run is abandoned, its record stays RUNNING for the next start to replay. */
  abandoned: boolean;
  stopRequest?: { error?: string; cause?: string };
  /** Callback outcomes of each state this run has used (replayed from the record, or acknowledged live). */
  outcomesUsed: Map<string, number>;
  /** Nested executions each state of this run has started, for their derived names. */
  childStarts: Map<string, number>;
  events?: Promise<void>;
  done?: Promise<void>;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function containsString(value: unknown, wanted: Set<string>): string | undefined {
  if (typeof value === 'string') return wanted.has(value) ? value : undefined;
  if (Array.isArray(value)) {
    for (const v of value) {
      const hit = containsString(v, wanted);
      if (hit) return hit;
    }
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) {
      const hit = containsString(v, wanted);
      if (hit) return hit;
    }
  }
  return undefined;
}

/** The execution's output as JSON text; undefined when it is nested too deeply to serialize. */
function outputText(value: Json | undefined): string | undefined {
  try {
    return JSON.stringify(value ?? null);
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

function pageToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64url');
}

function pageOffset(token: string | undefined): number {
  if (!token) return 0;
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // fall through
  }
  throw new SfnApiError('ValidationException', 'Invalid nextToken');
}

function pageSize(maxResults: number | undefined): number {
  if (maxResults === undefined || maxResults === 0) return 100;
  if (!Number.isInteger(maxResults) || maxResults < 0 || maxResults > 1000) {
    throw new SfnApiError('ValidationException', `1 validation error detected: Value '${maxResults}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000`);
  }
  return maxResults;
}

/** The Cause Step Functions records for a failed Lambda invocation: Lambda's error document as text. */
function taskError(err: unknown): StatesError {
  if (err instanceof FunctionNotFoundError) return new StatesError('Lambda.ResourceNotFoundException', err.message);
  const lambdaError = LambdaInvocationError.from(err);
  return new StatesError(lambdaError.errorType, JSON.stringify(lambdaError.toPayload()));
}

export class SfnEngine extends EventEmitter<{ closed: [ExecutionRecord] }> {
  private readonly machines = new Map<string, { sm: LocalStateMachine; prepared: PreparedDefinition; runner: StateMachine }>();
  private readonly records = new Map<string, ExecutionRecord>();
  private readonly runs = new Map<string, Run>();
  private readonly tokens = new Map<string, TaskAttempt>();
  /** Parents' tasks waiting for a nested execution to end, by the child's ARN. */
  private readonly childWaiters = new Map<string, Set<(record: ExecutionRecord) => void>>();
  private readonly store: ExecutionStore;
  private stopped = false;

  constructor(private readonly options: SfnEngineOptions) {
    super();
    for (const sm of options.stateMachines) {
      const prepared = prepareDefinition(sm.definition);
      let runner: StateMachine;
      try {
        runner = new StateMachine(prepared.definition as unknown as StateMachineDefinition);
      } catch (err) {
        throw new Error(`State machine ${sm.name} has an invalid definition: ${(err as Error).message}`, { cause: err });
      }
      this.machines.set(sm.arn, { sm, prepared, runner });
    }
    const warn: Warn = options.log ?? (() => undefined);
    this.store = new ExecutionStore(options.executionsDir, { fsync: options.fsync, warn });
  }

  stateMachineArns(): string[] {
    return [...this.machines.keys()];
  }

  // ---- API operations ------------------------------------------------------------------------------

  startExecution(req: { stateMachineArn?: string; name?: string; input?: string }): { executionArn: string; startDate: number } {
    this.assertRunning();
    const machine = this.machineOf(req.stateMachineArn);
    const name = req.name ?? randomUUID();
    if (name.length < 1 || name.length > 80 || INVALID_NAME.test(name) || isControl(name)) throw new SfnApiError('InvalidName', `Invalid Name: '${name}'`);
    const input = req.input ?? '{}';
    if (byteLength(input) > MAX_PAYLOAD_BYTES) {
      throw new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: 'the input exceeds the maximum size of ${MAX_PAYLOAD_BYTES} bytes'`);
    }
    try {
      JSON.parse(input);
    } catch (err) {
      throw new SfnApiError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(err as Error).message}'`);
    }
    const arn = makeExecutionArn(machine.sm.name, name);
    const existing = this.records.get(arn);
    if (existing) {
      // Same name and input while still running is an idempotent retry of the same call.
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn: arn, startDate: existing.startDate };
      throw new SfnApiError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const record: ExecutionRecord = {
      executionArn: arn,
      stateMachineArn: machine.sm.arn,
      name,
      status: 'RUNNING',
      input,
      startDate: Date.now(),
      replays: 0,
      history: [],
    };
    this.records.set(arn, record);
    this.store.started(record);
    this.options.statusEvents?.announce(record, 'RUNNING');
    this.launch(record);
    return { executionArn: arn, startDate: record.startDate };
  }

  describeExecution(executionArn: string | undefined): ExecutionRecord {
    return this.recordOf(executionArn);
  }

  listExecutions(req: { stateMachineArn?: string; statusFilter?: string; maxResults?: number; nextToken?: string }): { executions: ExecutionRecord[]; nextToken?: string } {
    const machine = this.machineOf(req.stateMachineArn);
    const size = pageSize(req.maxResults);
    const offset = pageOffset(req.nextToken);
    const all = [...this.records.values()]
      .filter((r) => r.stateMachineArn === machine.sm.arn && (!req.statusFilter || r.status === req.statusFilter))
      .sort((a, b) => b.startDate - a.startDate);
    const executions = all.slice(offset, offset + size);
    return { executions, nextToken: offset + size < all.length ? pageToken(offset + size) : undefined };
  }

  getExecutionHistory(req: { executionArn?: string; maxResults?: number; reverseOrder?: boolean; nextToken?: string; includeExecutionData?: boolean }): {
    events: Record<string, unknown>[];
    nextToken?: string;
  } {
    const record = this.recordOf(req.executionArn);
    const size = pageSize(req.maxResults);
    const offset = pageOffset(req.nextToken);
    const ordered = req.reverseOrder ? [...record.history].reverse() : record.history;
    const events = ordered.slice(offset, offset + size).map((e) => History.toApi(e, req.includeExecutionData !== false));
    return { events, nextToken: offset + size < ordered.length ? pageToken(offset + size) : undefined };
  }

  async stopExecution(req: { executionArn?: string; error?: string; cause?: string }): Promise<{ stopDate: number }> {
    const record = this.recordOf(req.executionArn);
    const run = this.runs.get(record.executionArn);
    if (record.status !== 'RUNNING' || !run) return { stopDate: record.stopDate ?? Date.now() };
    run.stopRequest = { error: req.error, cause: req.cause };
    run.abort?.();
    await run.done;
    return { stopDate: record.stopDate ?? Date.now() };
  }

  sendTaskSuccess(req: { taskToken?: string; output?: string }): void {
    const attempt = this.attemptOf(req.taskToken);
    const output = req.output ?? '';
    let parsed: Json;
    try {
      parsed = JSON.parse(output) as Json;
    } catch {
      throw new SfnApiError('InvalidOutput', 'Invalid Output: the output is not valid JSON');
    }
    if (byteLength(output) > MAX_PAYLOAD_BYTES) throw new SfnApiError('InvalidOutput', `Invalid Output: the output exceeds ${MAX_PAYLOAD_BYTES} bytes`);
    this.recordOutcome(attempt, { state: attempt.task.name, output });
    this.closeAttempt(attempt);
    attempt.run.history.add('TaskSucceeded', { ...this.taskResource(attempt.task), output, outputDetails: NOT_TRUNCATED });
    this.touch(attempt.run.record);
    attempt.settle?.resolve(parsed);
  }

  sendTaskFailure(req: { taskToken?: string; error?: string; cause?: string }): void {
    const attempt = this.attemptOf(req.taskToken);
    if (req.error !== undefined && req.error.length > 256) throw new SfnApiError('ValidationException', "Value at 'error' failed to satisfy constraint: Member must have length less than or equal to 256");
    if (req.cause !== undefined && req.cause.length > 32768) throw new SfnApiError('ValidationException', "Value at 'cause' failed to satisfy constraint: Member must have length less than or equal to 32768");
    this.recordOutcome(attempt, { state: attempt.task.name, error: req.error ?? '', cause: req.cause ?? '' });
    this.closeAttempt(attempt);
    attempt.run.history.add('TaskFailed', { ...this.taskResource(attempt.task), error: req.error ?? '', cause: req.cause ?? '' });
    this.touch(attempt.run.record);
    attempt.settle?.reject(new StatesError(req.error ?? '', req.cause ?? ''));
  }

  sendTaskHeartbeat(req: { taskToken?: string }): void {
    const attempt = this.attemptOf(req.taskToken);
    if (attempt.heartbeat) attempt.heartbeat.refresh();
  }

  describeStateMachine(arn: string | undefined): LocalStateMachine {
    return this.machineOf(arn).sm;
  }

  listStateMachines(): LocalStateMachine[] {
    return [...this.machines.values()].map((m) => m.sm);
  }

  // ---- lifecycle ----------------------------------------------------------------------------------

  /**
   * Load persisted executions; replay those that were RUNNING from their input under the same ARN.
   * Returns the replayed ARNs.
   */
  resume(): string[] {
    const replayed: string[] = [];
    const { records, journaled } = this.store.load();
    for (const record of records) this.records.set(record.executionArn, record);
    // The process may have died between recording a change and announcing it; the sink drops repeats.
    for (const entry of journaled) {
      const record = this.records.get(entry.op === 'started' ? entry.record.executionArn : entry.executionArn);
      if (record && entry.op !== 'callback') this.options.statusEvents?.announce(record, entry.op === 'started' ? 'RUNNING' : entry.status);
    }
    this.store.fold();
    for (const record of records) {
      if (record.status !== 'RUNNING') continue;
      if (!this.machines.has(record.stateMachineArn)) {
        Object.assign(record, {
          status: 'ABORTED',
          stopDate: Date.now(),
          error: 'States.Runtime',
          cause: 'The state machine is no longer in the synthesized template; the execution cannot be replayed',
        } satisfies Partial<ExecutionRecord>);
        new History(record.history).add(closingEventType('ABORTED'), { error: record.error, cause: record.cause });
        this.store.closed(record);
        this.options.statusEvents?.announce(record, 'ABORTED');
        continue;
      }
      record.replays += 1;
      record.history = [];
      this.launch(record);
      replayed.push(record.executionArn);
    }
    return replayed;
  }

  /**
   * Resolves once each execution is closed or waiting for a callback with no handler still running:
   * a replayed execution has re-issued its task token by then.
   */
  async settled(arns: readonly string[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const busy = arns.filter((arn) => {
        const run = this.runs.get(arn);
        if (!run || run.closed) return false;
        const waiting = [...run.attempts].some((a) => (a.task.kind === 'callback' || a.task.kind === 'execution') && a.submitted && !a.closed);
        return run.inflight > 0 || !waiting;
      });
      if (busy.length === 0) return;
      if (Date.now() > deadline) throw new Error(`Executions still busy after ${timeoutMs} ms: ${busy.join(', ')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Resolves with the record once the execution is no longer RUNNING. */
  async waitForExecution(executionArn: string, timeoutMs = 30_000): Promise<ExecutionRecord> {
    const record = this.recordOf(executionArn);
    if (record.status !== 'RUNNING') return record;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('closed', onClosed);
        reject(new Error(`Execution ${executionArn} still RUNNING after ${timeoutMs} ms`));
      }, timeoutMs);
      const onClosed = (r: ExecutionRecord) => {
        if (r.executionArn !== executionArn) return;
        clearTimeout(timer);
        this.off('closed', onClosed);
        resolve(r);
      };
      this.on('closed', onClosed);
    });
  }

  /** Abandon running executions (their records stay RUNNING, for replay) and write the state file. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    const runs = [...this.runs.values()];
    for (const run of runs) {
      run.abandoned = true;
      run.abort?.();
    }
    await Promise.all(runs.map((r) => r.done));
    this.store.close();
  }

  /** Resolves once every change acknowledged so far is on disk; only waits when fsync is on. */
  async durable(): Promise<void> {
    await Promise.all([this.store.durable(), this.options.statusEvents?.durable()]);
  }

  // ---- running executions ---------------------------------------------------------------------------

  private assertRunning(): void {
    if (this.stopped) throw new SfnApiError('InternalFailure', 'The local Step Functions service is shutting down');
  }

  private machineOf(arn: string | undefined) {
    if (!arn) throw new SfnApiError('ValidationException', "1 validation error detected: Value null at 'stateMachineArn' failed to satisfy constraint: Member must not be null");
    if (!STATE_MACHINE_ARN.test(arn)) throw new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const machine = this.machines.get(arn);
    if (!machine) throw new SfnApiError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    return machine;
  }

  private recordOf(arn: string | undefined): ExecutionRecord {
    if (!arn) throw new SfnApiError('ValidationException', "1 validation error detected: Value null at 'executionArn' failed to satisfy constraint: Member must not be null");
    if (!EXECUTION_ARN.test(arn)) throw new SfnApiError('InvalidArn', `Invalid Arn: '${arn}'`);
    const record = this.records.get(arn);
    if (!record) throw new SfnApiError('ExecutionDoesNotExist', `Execution Does Not Exist: '${arn}'`);
    return record;
  }

  private attemptOf(token: string | undefined): TaskAttempt {
    if (!token || token.length > 2048) {
      throw new SfnApiError('ValidationException', "1 validation error detected: Value at 'taskToken' failed to satisfy constraint: Member must have length between 1 and 2048");
    }
    const attempt = this.tokens.get(token);
    if (!attempt) throw new SfnApiError('InvalidToken', 'Invalid Token');
    if (attempt.closed) throw new SfnApiError('TaskTimedOut', 'Task Timed Out: Provided task does not exist anymore');
    return attempt;
  }

  private taskResource(task: TaskInfo): { resourceType: string; resource: string } {
    if (task.kind === 'function') return { resourceType: 'lambda', resource: task.resource };
    const [, service = 'unknown', resource = task.resource] = /^arn:aws:states:::([^:]+):(.+)$/.exec(task.resource) ?? [];
    return { resourceType: service, resource };
  }

  private touch(record: ExecutionRecord): void {
    this.store.touch(record);
  }

  /** An acknowledged callback outcome: recorded before the caller hears back, reused if the execution is replayed. */
  private recordOutcome(attempt: TaskAttempt, outcome: CallbackOutcome): void {
    const { run } = attempt;
    run.outcomesUsed.set(outcome.state, (run.outcomesUsed.get(outcome.state) ?? 0) + 1);
    this.store.callback(run.record, outcome);
  }

  /** The next recorded outcome of this state that the run has not used yet (a replay after a restart). */
  private recordedOutcome(run: Run, task: TaskInfo): CallbackOutcome | undefined {
    const used = run.outcomesUsed.get(task.name) ?? 0;
    const outcome = (run.record.callbacks ?? []).filter((c) => c.state === task.name)[used];
    if (outcome) run.outcomesUsed.set(task.name, used + 1);
    return outcome;
  }

  private newToken(run: Run): string {
    const token = randomBytes(96).toString('base64url');
    run.unclaimedTokens.push(token);
    return token;
  }

  private launch(record: ExecutionRecord): void {
    const machine = this.machines.get(record.stateMachineArn)!;
    const history = new History(record.history);
    record.history = history.events;
    const run: Run = { record, history, attempts: new Set(), unclaimedTokens: [], inflight: 0, closed: false, abandoned: false, outcomesUsed: new Map(), childStarts: new Map() };
    this.runs.set(record.executionArn, run);
    history.add('ExecutionStarted', { input: record.input, inputDetails: NOT_TRUNCATED, roleArn: machine.sm.roleArn });
    this.touch(record);

    const newToken = () => this.newToken(run);
    const context = {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        RoleArn: machine.sm.roleArn,
        RedriveCount: 0,
        LocalStartTime: new Date(record.startDate).toISOString(),
      },
      StateMachine: { Id: machine.sm.arn, Name: machine.sm.name },
      // A fresh token each time a state's Parameters read $$.Task.Token.
      Task: {
        get Token() {
          return newToken();
        },
      },
    };
    const handlers = Object.fromEntries([...machine.prepared.tasks.values()].map((task) => [task.name, (input: unknown) => this.runTask(run, task, input as Json)]));
    const retryMs = this.options.retryIntervalMs;
    const handle = machine.runner.run(JSON.parse(record.input) as Json, {
      context,
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        retryIntervalOverrides: retryMs === undefined ? undefined : Object.fromEntries(machine.prepared.retryStates.map((s) => [s, retryMs])),
      },
    });
    run.abort = handle.abort;
    run.events = this.consumeEvents(run, handle.eventLogs as AsyncGenerator<unknown> as AsyncGenerator<Record<string, unknown>>).catch((err: unknown) =>
      this.options.log?.(`execution ${record.name}: history stopped early: ${err instanceof Error ? err.message : String(err)}`),
    );
    run.done = handle.result.then(
      (output) => this.finish(run, { status: 'SUCCEEDED', output: output as Json }),
      (err: unknown) => this.finish(run, this.outcomeOf(run, err)),
    );
  }

  private outcomeOf(run: Run, err: unknown): { status: ExecutionStatus; error?: string; cause?: string } {
    if (err instanceof ExecutionAbortedError) {
      return { status: 'ABORTED', error: run.stopRequest?.error, cause: run.stopRequest?.cause };
    }
    if (err instanceof ExecutionTimeoutError) return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'The execution ran longer than the state machine TimeoutSeconds' };
    if (err instanceof ExecutionError && err.cause instanceof Error) return { status: 'FAILED', error: err.cause.name, cause: err.cause.message };
    return { status: 'FAILED', error: 'States.Runtime', cause: err instanceof Error ? err.message : String(err) };
  }

  private async finish(run: Run, outcome: { status: ExecutionStatus; output?: Json; error?: string; cause?: string }): Promise<void> {
    // Let the history catch up with the library's last events before the closing event.
    await Promise.race([run.events, new Promise((r) => setTimeout(r, 1000).unref())]);
    run.closed = true;
    for (const attempt of run.attempts) this.closeAttempt(attempt, new ExecutionClosedError());
    this.runs.delete(run.record.executionArn);
    if (run.abandoned) return;

    const record = run.record;
    record.stopDate = Date.now();
    if (outcome.status === 'SUCCEEDED') {
      const output = outputText(outcome.output);
      if (output === undefined) {
        Object.assign(record, { status: 'FAILED', error: 'States.Runtime', cause: 'The execution output is nested too deeply to serialize' });
        run.history.add('ExecutionFailed', { error: record.error, cause: record.cause });
      } else if (byteLength(output) > MAX_PAYLOAD_BYTES) {
        Object.assign(record, { status: 'FAILED', error: 'States.DataLimitExceeded', cause: `The execution output exceeds ${MAX_PAYLOAD_BYTES} bytes` });
        run.history.add('ExecutionFailed', { error: record.error, cause: record.cause });
      } else {
        Object.assign(record, { status: 'SUCCEEDED', output });
        run.history.add('ExecutionSucceeded', { output, outputDetails: NOT_TRUNCATED });
      }
    } else {
      const status = outcome.status === 'RUNNING' ? 'FAILED' : outcome.status;
      Object.assign(record, { status, error: outcome.error, cause: outcome.cause });
      run.history.add(closingEventType(status), { error: outcome.error, cause: outcome.cause });
    }
    this.options.log?.(`execution ${record.name} ${record.status}${record.error ? ` (${record.error})` : ''}`);
    this.store.closed(record);
    this.options.statusEvents?.announce(record, record.status);
    this.emit('closed', record);
    for (const waiter of this.childWaiters.get(record.executionArn) ?? []) waiter(record);
  }

  private async consumeEvents(run: Run, events: AsyncGenerator<Record<string, unknown>>): Promise<void> {
    for await (const event of events) {
      const state = event.state as { name: string; type: string; input: Json; output?: Json } | undefined;
      switch (event.type) {
        case 'StateEntered':
          run.history.add(stateEventType(state!.type, 'Entered'), { name: state!.name, input: dataText(state!.input), inputDetails: NOT_TRUNCATED }, event.timestamp as number);
          break;
        case 'StateExited':
          run.history.add(stateEventType(state!.type, 'Exited'), { name: state!.name, output: dataText(state!.output), outputDetails: NOT_TRUNCATED }, event.timestamp as number);
          break;
        case 'StateFailed':
          if (event.Error === 'States.Timeout') {
            for (const attempt of run.attempts) {
              if (attempt.task.name !== state!.name || attempt.closed) continue;
              this.closeAttempt(attempt);
              const timedOut = attempt.task.kind === 'function' ? 'LambdaFunctionTimedOut' : 'TaskTimedOut';
              const resource = attempt.task.kind === 'function' ? {} : this.taskResource(attempt.task);
              run.history.add(timedOut, { ...resource, error: 'States.Timeout', cause: 'The task did not finish within its TimeoutSeconds' });
            }
          }
          break;
        case 'MapIterationStarted':
        case 'MapIterationSucceeded':
        case 'MapIterationFailed': {
          const parent = event.parentState as { name: string };
          run.history.add(event.type, { name: parent.name, index: event.index });
          break;
        }
        default:
          break;
      }
      this.touch(run.record);
    }
  }

  private closeAttempt(attempt: TaskAttempt, rejectWith?: Error): void {
    if (attempt.closed) return;
    attempt.closed = true;
    if (attempt.heartbeat) clearTimeout(attempt.heartbeat);
    attempt.run.attempts.delete(attempt);
    attempt.onClose?.();
    if (rejectWith) attempt.settle?.reject(rejectWith);
  }

  private async runTask(run: Run, task: TaskInfo, input: Json): Promise<Json> {
    // Give the history consumer a turn so the state's Entered event is recorded before the task's events.
    await new Promise((r) => setImmediate(r));
    if (run.closed || run.abandoned || run.stopRequest) throw new ExecutionClosedError();
    switch (task.kind) {
      case 'function':
        return this.invokeFunction(run, task, input);
      case 'invoke':
        return this.invokeLambda(run, task, input);
      case 'callback':
        return this.invokeWithCallback(run, task, input);
      case 'execution':
        return this.runChild(run, task, input);
      default:
        throw new StatesError(
          'States.Runtime',
          `The local stack cannot run Task state ${task.name}: resource ${task.resource} is not emulated (Lambda functions, lambda:invoke[.waitForTaskToken] and states:startExecution[.sync[:2]] are)`,
        );
    }
  }

  private async callHandler(run: Run, functionName: string, payload: Json): Promise<Json> {
    run.inflight += 1;
    try {
      return (await this.options.lambda.invoke(functionName, payload)) as Json;
    } finally {
      run.inflight -= 1;
    }
  }

  private async invokeFunction(run: Run, task: TaskInfo, input: Json): Promise<Json> {
    const attempt: TaskAttempt = { run, task, closed: false, submitted: false };
    run.attempts.add(attempt);
    run.history.add('LambdaFunctionScheduled', { resource: task.resource, input: dataText(input), inputDetails: NOT_TRUNCATED, timeoutInSeconds: task.timeoutSeconds });
    run.history.add('LambdaFunctionStarted');
    try {
      const result = await this.callHandler(run, task.resource, input);
      if (!attempt.closed) run.history.add('LambdaFunctionSucceeded', { output: dataText(result), outputDetails: NOT_TRUNCATED });
      return result;
    } catch (err) {
      const error = taskError(err);
      if (!attempt.closed) run.history.add('LambdaFunctionFailed', { error: error.name, cause: error.message });
      throw error;
    } finally {
      this.closeAttempt(attempt);
    }
  }

  private lambdaParameters(task: TaskInfo, input: Json): { functionName: string; payload: Json; asynchronous: boolean } {
    const params = (input ?? {}) as JsonObject;
    if (typeof params.FunctionName !== 'string') throw new StatesError('States.Runtime', `Task state ${task.name}: Parameters.FunctionName must be a function name or ARN`);
    return { functionName: params.FunctionName, payload: params.Payload ?? null, asynchronous: params.InvocationType === 'Event' };
  }

  private async invokeLambda(run: Run, task: TaskInfo, input: Json): Promise<Json> {
    const attempt: TaskAttempt = { run, task, closed: false, submitted: false };
    run.attempts.add(attempt);
    const resource = this.taskResource(task);
    run.history.add('TaskScheduled', { ...resource, region: LOCAL_REGION, parameters: dataText(input), timeoutInSeconds: task.timeoutSeconds });
    try {
      const { functionName, payload, asynchronous } = this.lambdaParameters(task, input);
      run.history.add('TaskStarted', resource);
      let result: Json;
      if (asynchronous) {
        this.options.lambda.invoke(functionName, payload).catch((err: unknown) => this.options.log?.(`async invoke of ${functionName} failed: ${String(err)}`));
        result = { StatusCode: 202, Payload: '' };
      } else {
        const payloadOut = await this.callHandler(run, functionName, payload);
        result = {
          ExecutedVersion: '$LATEST',
          Payload: payloadOut,
          SdkHttpMetadata: { HttpStatusCode: 200 },
          SdkResponseMetadata: { RequestId: randomUUID() },
          StatusCode: 200,
        };
      }
      if (!attempt.closed) run.history.add('TaskSucceeded', { ...resource, output: dataText(result), outputDetails: NOT_TRUNCATED });
      return result;
    } catch (err) {
      const error = err instanceof StatesError ? err : taskError(err);
      if (!attempt.closed) run.history.add('TaskFailed', { ...resource, error: error.name, cause: error.message });
      throw error;
    } finally {
      this.closeAttempt(attempt);
    }
  }

  /** A callback whose outcome was acknowledged before a restart: settled with it, without calling the handler again. */
  private replayOutcome(run: Run, task: TaskInfo, input: Json, outcome: CallbackOutcome): Json {
    const resource = this.taskResource(task);
    run.history.add('TaskScheduled', { ...resource, region: LOCAL_REGION, parameters: dataText(input), timeoutInSeconds: task.timeoutSeconds, heartbeatInSeconds: task.heartbeatSeconds });
    if (outcome.output !== undefined) {
      run.history.add('TaskSucceeded', { ...resource, output: outcome.output, outputDetails: NOT_TRUNCATED });
      return JSON.parse(outcome.output) as Json;
    }
    run.history.add('TaskFailed', { ...resource, error: outcome.error ?? '', cause: outcome.cause ?? '' });
    throw new StatesError(outcome.error ?? '', outcome.cause ?? '');
  }

  private async invokeWithCallback(run: Run, task: TaskInfo, input: Json): Promise<Json> {
    const unclaimed = new Set(run.unclaimedTokens);
    const token = containsString(input, unclaimed) ?? run.unclaimedTokens.at(-1) ?? this.newToken(run);
    run.unclaimedTokens = run.unclaimedTokens.filter((t) => t !== token);
    const recorded = this.recordedOutcome(run, task);
    if (recorded) return this.replayOutcome(run, task, input, recorded);
    const attempt: TaskAttempt = { run, task, token, closed: false, submitted: false };
    const settled = new Promise<Json>((resolve, reject) => {
      attempt.settle = { resolve, reject };
    });
    // It may be rejected (execution stopped) while the handler still runs, before anyone awaits it.
    settled.catch(() => undefined);
    this.tokens.set(token, attempt);
    run.attempts.add(attempt);
    const resource = this.taskResource(task);
    run.history.add('TaskScheduled', {
      ...resource,
      region: LOCAL_REGION,
      parameters: dataText(input),
      timeoutInSeconds: task.timeoutSeconds,
      heartbeatInSeconds: task.heartbeatSeconds,
    });
    if (task.heartbeatSeconds) {
      attempt.heartbeat = setTimeout(() => {
        if (attempt.closed) return;
        this.closeAttempt(attempt);
        run.history.add('TaskTimedOut', { ...resource, error: 'States.HeartbeatTimeout', cause: 'No heartbeat within HeartbeatSeconds' });
        attempt.settle?.reject(new StatesError('States.HeartbeatTimeout', 'No heartbeat within HeartbeatSeconds'));
      }, task.heartbeatSeconds * 1000);
      attempt.heartbeat.unref();
    }
    try {
      const { functionName, payload } = this.lambdaParameters(task, input);
      run.history.add('TaskStarted', resource);
      const result = await this.callHandler(run, functionName, payload);
      if (!attempt.closed) {
        const submitted = { ExecutedVersion: '$LATEST', Payload: result, StatusCode: 200 };
        run.history.add('TaskSubmitted', { ...resource, output: dataText(submitted), outputDetails: NOT_TRUNCATED });
      }
      attempt.submitted = true;
      this.touch(run.record);
    } catch (err) {
      // A callback that already arrived wins over a handler failing afterwards.
      if (!attempt.closed) {
        const error = err instanceof StatesError ? err : taskError(err);
        this.closeAttempt(attempt);
        run.history.add('TaskFailed', { ...resource, error: error.name, cause: error.message });
        throw error;
      }
    }
    return settled;
  }

  /**
   * A nested execution: start the child (or find the one this state started before a restart: its name is
   * derived from the parent's ARN, the state and how many children the state started) and, for `.sync` and
   * `.sync:2`, wait for it to end. The child is an execution like any other, persisted and replayed by itself;
   * stopping the parent or timing out its task stops the child, as Step Functions does.
   */
  private async runChild(run: Run, task: TaskInfo, input: Json): Promise<Json> {
    const attempt: TaskAttempt = { run, task, closed: false, submitted: false };
    run.attempts.add(attempt);
    const resource = this.taskResource(task);
    run.history.add('TaskScheduled', { ...resource, region: LOCAL_REGION, parameters: dataText(input), timeoutInSeconds: task.timeoutSeconds });
    let child: ExecutionRecord;
    try {
      const params = childParameters(task.name, input);
      const n = run.childStarts.get(task.name) ?? 0;
      run.childStarts.set(task.name, n + 1);
      run.history.add('TaskStarted', resource);
      child = this.startChild(params, params.name ?? childExecutionName(run.record.executionArn, task.name, n));
    } catch (err) {
      const error = err instanceof StatesError ? err : startError(err as Error);
      if (!attempt.closed) run.history.add('TaskFailed', { ...resource, error: error.name, cause: error.message });
      this.closeAttempt(attempt);
      throw error;
    }
    const started = startedResult(child);
    if (task.wait === 'none' || task.wait === undefined) {
      run.history.add('TaskSucceeded', { ...resource, output: dataText(started), outputDetails: NOT_TRUNCATED });
      this.closeAttempt(attempt);
      return started;
    }
    const wait = task.wait;
    run.history.add('TaskSubmitted', { ...resource, output: dataText(started), outputDetails: NOT_TRUNCATED });
    const ended = new Promise<ExecutionRecord>((resolve, reject) => {
      attempt.settle = { resolve: () => undefined, reject };
      if (child.status !== 'RUNNING') return resolve(child);
      const waiter = (record: ExecutionRecord) => resolve(record);
      const waiters = this.childWaiters.get(child.executionArn) ?? new Set();
      waiters.add(waiter);
      this.childWaiters.set(child.executionArn, waiters);
      attempt.onClose = () => {
        waiters.delete(waiter);
        if (waiters.size === 0) this.childWaiters.delete(child.executionArn);
        // The parent stopped, failed elsewhere or timed out this task (not a shutdown): the child stops too.
        if (!run.abandoned && child.status === 'RUNNING') {
          this.stopExecution({ executionArn: child.executionArn, error: 'States.Aborted', cause: `The parent execution ${run.record.name} no longer waits for it` }).catch((err: unknown) =>
            this.options.log?.(`stopping nested execution ${child.name}: ${String(err)}`),
          );
        }
      };
    });
    ended.catch(() => undefined);
    attempt.submitted = true;
    this.touch(run.record);
    const record = await ended;
    if (attempt.closed) throw new ExecutionClosedError();
    this.closeAttempt(attempt);
    if (record.status === 'SUCCEEDED') {
      const result = describeChild(record, wait);
      run.history.add('TaskSucceeded', { ...resource, output: dataText(result), outputDetails: NOT_TRUNCATED });
      return result;
    }
    const error = childFailed(record, wait);
    run.history.add('TaskFailed', { ...resource, error: error.name, cause: error.message });
    throw error;
  }

  /** Start a nested execution, or return the one of that name and input started before (a replayed parent). */
  private startChild(params: { stateMachineArn: string; input: string }, name: string): ExecutionRecord {
    const machine = this.machineOf(params.stateMachineArn);
    const existing = this.records.get(makeExecutionArn(machine.sm.name, name));
    if (existing && existing.input === params.input) return existing;
    const { executionArn } = this.startExecution({ stateMachineArn: params.stateMachineArn, name, input: params.input });
    return this.records.get(executionArn)!;
  }
}
