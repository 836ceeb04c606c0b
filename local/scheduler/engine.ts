/**
 * Local EventBridge Scheduler: keeps schedules, fires each at its time by invoking the target function in
 * process with the schedule's Input, retries a failed delivery per the RetryPolicy, and records what it could
 * not deliver in a dead-letter file. Time comes from an injectable clock so tests can move it forward.
 * Created, updated and deleted schedules are on disk before the API answers (see store.ts).
 */
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../aws-ids.ts';
import { systemClock, type Clock } from '../clock.ts';
import { readJsonFile, writeJsonFile, type Warn } from '../json-file.ts';
import { LambdaInvocationError, type LocalLambda } from '../lambda.ts';
import { isTimeZone, parseExpression, type ParsedExpression } from './expression.ts';
import { ScheduleStore, scheduleKey as keyOf, type StoredSchedule } from './store.ts';

export type SchedulerErrorType = 'ValidationException' | 'ResourceNotFoundException' | 'ConflictException' | 'InternalServerException';

const STATUS: Record<SchedulerErrorType, number> = {
  ValidationException: 400,
  ResourceNotFoundException: 404,
  ConflictException: 409,
  InternalServerException: 500,
};

export class SchedulerApiError extends Error {
  readonly type: SchedulerErrorType;
  readonly status: number;
  constructor(type: SchedulerErrorType, message: string) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = STATUS[type];
  }
}

export interface ScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
  DeadLetterConfig?: { Arn?: string };
  [other: string]: unknown;
}

/** A schedule as the API describes it; dates are epoch milliseconds here, seconds on the wire. */
export interface Schedule {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State: 'ENABLED' | 'DISABLED';
  KmsKeyArn?: string;
  Target: ScheduleTarget;
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  ActionAfterCompletion: 'NONE' | 'DELETE';
  CreationDate: number;
  LastModificationDate: number;
}

export interface ScheduleInput {
  Name?: string;
  GroupName?: string;
  ScheduleExpression?: string;
  ScheduleExpressionTimezone?: string;
  StartDate?: number;
  EndDate?: number;
  Description?: string;
  State?: string;
  KmsKeyArn?: string;
  Target?: Partial<ScheduleTarget>;
  FlexibleTimeWindow?: { Mode?: string; MaximumWindowInMinutes?: number };
  ActionAfterCompletion?: string;
}

/** An event the Scheduler gave up on, as it would land in the target's dead-letter queue. */
export interface DeadLetter {
  scheduleArn: string;
  targetArn: string;
  deadLetterArn?: string;
  input?: string;
  errorCode: string;
  errorMessage: string;
  /** Why retrying stopped: attempts or event age exhausted. */
  exhaustedRetryCondition: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds';
  retryAttempts: number;
  at: string;
}

interface ScheduleState {
  schedule: Schedule;
  parsed: ParsedExpression;
  /** Next time it is due (clock ms); undefined when it will not fire again. */
  nextFireAt?: number;
  /** From the template: recreated on each start, not persisted. */
  fromTemplate?: boolean;
}

interface Delivery {
  key: string;
  schedule: Schedule;
  firstAttemptAt: number;
  attempts: number;
  dueAt: number;
  running: boolean;
}

export interface SchedulerEngineOptions {
  lambda: Pick<LocalLambda, 'invoke'>;
  groups: readonly string[];
  clock?: Clock;
  /** Fire due schedules from timers; default true with the system clock, false with a manual one (tests call `advance*`). */
  autoRun?: boolean;
  /** `schedules.json`; the changes since it was last written go to `schedules.jsonl` beside it. */
  stateFile?: string;
  deadLetterFile?: string;
  /** Wait for the disk (fsync) before acknowledging, not only for the OS. */
  fsync?: boolean;
  /** Pause before each delivery retry, in ms; default backs off 1 s, 2 s, 4 s … up to 60 s. */
  retryDelayMs?: number;
  log?: (line: string) => void;
}

const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const MAX_TIMER_MS = 60_000;

function scheduleArn(group: string, name: string): string {
  return `arn:aws:scheduler:${LOCAL_REGION}:${LOCAL_ACCOUNT}:schedule/${group}/${name}`;
}

function invalid(message: string): never {
  throw new SchedulerApiError('ValidationException', message);
}

export class SchedulerEngine {
  readonly clock: Clock;
  private readonly schedules = new Map<string, ScheduleState>();
  private readonly deliveries: Delivery[] = [];
  private readonly groups: Set<string>;
  private readonly store: ScheduleStore;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
  private stopped = false;
  private deadLetterList: DeadLetter[];

  constructor(private readonly options: SchedulerEngineOptions) {
    this.clock = options.clock ?? systemClock;
    this.groups = new Set(['default', ...options.groups]);
    const warn: Warn = options.log ?? (() => undefined);
    this.store = new ScheduleStore(options.stateFile, { fsync: options.fsync, warn });
    const letters = options.deadLetterFile ? readJsonFile<DeadLetter[]>(options.deadLetterFile, [], warn) : [];
    this.deadLetterList = Array.isArray(letters) ? letters : [];
  }

  // ---- API operations --------------------------------------------------------------------------------

  createSchedule(input: ScheduleInput): { ScheduleArn: string } {
    const schedule = this.validate(input);
    const key = keyOf(schedule.GroupName, schedule.Name);
    if (this.schedules.has(key)) throw new SchedulerApiError('ConflictException', `Schedule ${schedule.Name} already exists.`);
    this.put(schedule);
    return { ScheduleArn: schedule.Arn };
  }

  updateSchedule(input: ScheduleInput): { ScheduleArn: string } {
    const existing = this.stateOf(input.Name, input.GroupName);
    const schedule = this.validate(input, existing.schedule.CreationDate);
    this.put(schedule);
    return { ScheduleArn: schedule.Arn };
  }

  getSchedule(name: string | undefined, group: string | undefined): Schedule {
    return this.stateOf(name, group).schedule;
  }

  deleteSchedule(name: string | undefined, group: string | undefined): void {
    const state = this.stateOf(name, group);
    const key = keyOf(state.schedule.GroupName, state.schedule.Name);
    this.schedules.delete(key);
    this.store.delete(key);
    this.foldIfDue();
    this.arm();
  }

  listSchedules(req: { GroupName?: string; NamePrefix?: string; State?: string; MaxResults?: number; NextToken?: string }): { Schedules: Schedule[]; NextToken?: string } {
    const size = req.MaxResults ?? 100;
    if (!Number.isInteger(size) || size < 1 || size > 100) invalid('MaxResults must be between 1 and 100');
    const offset = req.NextToken ? Number(Buffer.from(req.NextToken, 'base64url').toString('utf8')) : 0;
    if (!Number.isInteger(offset) || offset < 0) invalid('Invalid NextToken');
    const all = [...this.schedules.values()]
      .map((s) => s.schedule)
      .filter((s) => (!req.GroupName || s.GroupName === req.GroupName) && (!req.NamePrefix || s.Name.startsWith(req.NamePrefix)) && (!req.State || s.State === req.State))
      .sort((a, b) => keyOf(a.GroupName, a.Name).localeCompare(keyOf(b.GroupName, b.Name)));
    const page = all.slice(offset, offset + size);
    return { Schedules: page, NextToken: offset + size < all.length ? Buffer.from(String(offset + size)).toString('base64url') : undefined };
  }

  listGroups(): string[] {
    return [...this.groups];
  }

  /** Register a schedule defined by the template (not persisted; recreated from the template on each start). */
  addTemplateSchedule(input: ScheduleInput): void {
    const schedule = this.validate(input);
    this.put(schedule, true);
  }

  // ---- time --------------------------------------------------------------------------------------------

  now(): number {
    return this.clock.now();
  }

  /** When the next schedule or retry is due (clock ms), if any. */
  nextDueAt(): number | undefined {
    const times = [
      ...[...this.schedules.values()].filter((s) => s.schedule.State === 'ENABLED' && s.nextFireAt !== undefined).map((s) => s.nextFireAt!),
      ...this.deliveries.filter((d) => !d.running).map((d) => d.dueAt),
    ];
    return times.length ? Math.min(...times) : undefined;
  }

  /**
   * Fire every schedule and retry that is due by the clock, and wait until they have been delivered
   * (or dead-lettered). Repeats while deliveries make more work due (retries without delay).
   */
  async runDue(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    // Schedules created while this pass delivers (say, the next round's expiry) wait for the next pass, even
    // when a manual clock already stands past their time: one advance fires what was due when it was called.
    const eligible = new Set(this.schedules.values());
    this.running = (async () => {
      do {
        this.rerun = false;
        const now = this.clock.now();
        for (const state of this.schedules.values()) {
          if (!eligible.has(state)) continue;
          if (state.schedule.State !== 'ENABLED' || state.nextFireAt === undefined || state.nextFireAt > now) continue;
          const key = keyOf(state.schedule.GroupName, state.schedule.Name);
          if (this.deliveries.some((d) => d.key === key)) continue;
          this.deliveries.push({ key, schedule: state.schedule, firstAttemptAt: now, attempts: 0, dueAt: now, running: false });
          state.nextFireAt = this.following(state, now);
        }
        const due = this.deliveries.filter((d) => !d.running && d.dueAt <= now);
        if (due.length === 0) break;
        await Promise.all(due.map((d) => this.deliver(d)));
      } while (!this.stopped);
    })().finally(() => {
      this.running = undefined;
      if (this.rerun && !this.stopped) void this.runDue();
      this.arm();
    });
    return this.running;
  }

  /** Manual clocks: move time forward and fire what became due. */
  async advanceBy(ms: number): Promise<void> {
    this.manualClock().advance(ms);
    await this.runDue();
  }

  async advanceTo(to: Date | number): Promise<void> {
    this.manualClock().set(to);
    await this.runDue();
  }

  deadLetters(): readonly DeadLetter[] {
    return this.deadLetterList;
  }

  // ---- lifecycle ------------------------------------------------------------------------------------------

  /** Load persisted schedules (an overdue one fires at once) and start the timers. */
  resume(): void {
    for (const { nextFireAt, ...schedule } of this.store.load()) {
      const parsed = parseExpression(schedule.ScheduleExpression, schedule.ScheduleExpressionTimezone);
      if (!parsed) continue;
      this.groups.add(schedule.GroupName);
      this.schedules.set(keyOf(schedule.GroupName, schedule.Name), { schedule, parsed, nextFireAt });
    }
    this.store.fold(this.stored());
    this.arm();
  }

  /** Resolves once every change acknowledged so far is on disk; only waits when fsync is on. */
  durable(): Promise<void> {
    return this.store.durable();
  }

  async shutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.race([this.running, new Promise((r) => setTimeout(r, 5000).unref())]);
    this.store.close();
  }

  // ---- internals -----------------------------------------------------------------------------------------

  private manualClock(): { advance(ms: number): void; set(to: Date | number): void } {
    const clock = this.clock as Partial<{ advance(ms: number): void; set(to: Date | number): void }>;
    if (!clock.advance || !clock.set) throw new Error('advanceBy/advanceTo need a ManualClock; pass one as the scheduler clock');
    return clock as { advance(ms: number): void; set(to: Date | number): void };
  }

  private stateOf(name: string | undefined, group: string | undefined): ScheduleState {
    if (!name) invalid('Name is required');
    const groupName = group ?? 'default';
    if (!this.groups.has(groupName)) throw new SchedulerApiError('ResourceNotFoundException', `Schedule group ${groupName} does not exist.`);
    const state = this.schedules.get(keyOf(groupName, name));
    if (!state) throw new SchedulerApiError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return state;
  }

  private validate(input: ScheduleInput, creationDate?: number): Schedule {
    const name = input.Name ?? '';
    if (!NAME.test(name)) invalid(`Name '${name}' must be 1-64 letters, digits, '-', '_' or '.'`);
    const group = input.GroupName ?? 'default';
    if (!NAME.test(group)) invalid(`GroupName '${group}' must be 1-64 letters, digits, '-', '_' or '.'`);
    if (!this.groups.has(group)) throw new SchedulerApiError('ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    const tz = input.ScheduleExpressionTimezone;
    if (tz !== undefined && !isTimeZone(tz)) invalid(`Invalid ScheduleExpressionTimezone '${tz}'`);
    if (!input.ScheduleExpression) invalid('ScheduleExpression is required');
    if (!parseExpression(input.ScheduleExpression, tz ?? 'UTC')) invalid(`Invalid Schedule Expression ${input.ScheduleExpression}.`);
    const target = input.Target;
    if (!target?.Arn || !target.RoleArn) invalid('Target.Arn and Target.RoleArn are required');
    if (target.Input !== undefined && target.Input.length > 8192) invalid('Target.Input must be at most 8192 characters');
    const retry = target.RetryPolicy;
    if (retry?.MaximumRetryAttempts !== undefined && (retry.MaximumRetryAttempts < 0 || retry.MaximumRetryAttempts > 185)) invalid('MaximumRetryAttempts must be between 0 and 185');
    if (retry?.MaximumEventAgeInSeconds !== undefined && (retry.MaximumEventAgeInSeconds < 60 || retry.MaximumEventAgeInSeconds > 86400)) {
      invalid('MaximumEventAgeInSeconds must be between 60 and 86400');
    }
    const window = input.FlexibleTimeWindow;
    if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) invalid('FlexibleTimeWindow.Mode must be OFF or FLEXIBLE');
    if (window.Mode === 'FLEXIBLE' && !(window.MaximumWindowInMinutes! >= 1 && window.MaximumWindowInMinutes! <= 1440)) invalid('MaximumWindowInMinutes must be between 1 and 1440');
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') invalid('State must be ENABLED or DISABLED');
    const after = input.ActionAfterCompletion ?? 'NONE';
    if (after !== 'NONE' && after !== 'DELETE') invalid('ActionAfterCompletion must be NONE or DELETE');
    const now = this.clock.now();
    return {
      Name: name,
      GroupName: group,
      Arn: scheduleArn(group, name),
      ScheduleExpression: input.ScheduleExpression,
      ScheduleExpressionTimezone: tz,
      StartDate: input.StartDate,
      EndDate: input.EndDate,
      Description: input.Description,
      State: state,
      KmsKeyArn: input.KmsKeyArn,
      Target: target as ScheduleTarget,
      FlexibleTimeWindow: { Mode: window.Mode, MaximumWindowInMinutes: window.MaximumWindowInMinutes },
      ActionAfterCompletion: after,
      CreationDate: creationDate ?? now,
      LastModificationDate: now,
    };
  }

  private put(schedule: Schedule, fromTemplate = false): void {
    const parsed = parseExpression(schedule.ScheduleExpression, schedule.ScheduleExpressionTimezone ?? 'UTC')!;
    const state: ScheduleState = { schedule, parsed, fromTemplate };
    state.nextFireAt = this.first(state);
    if (parsed.kind === 'cron') this.options.log?.(`schedule ${schedule.Name}: cron expressions are not run by the local stack`);
    this.schedules.set(keyOf(schedule.GroupName, schedule.Name), state);
    if (!fromTemplate) {
      this.store.put({ ...schedule, nextFireAt: state.nextFireAt });
      this.foldIfDue();
    }
    this.arm();
  }

  /**
   * The schedules as a restart must see them. A delivery still in progress is not done: its schedule stays
   * due at the time it fired, so after a restart it fires again (at least once).
   */
  private stored(): StoredSchedule[] {
    return [...this.schedules.values()]
      .filter((s) => !s.fromTemplate)
      .map((s) => ({ ...s.schedule, nextFireAt: this.deliveries.find((d) => d.schedule === s.schedule)?.firstAttemptAt ?? s.nextFireAt }));
  }

  private foldIfDue(): void {
    if (this.store.due) this.store.fold(this.stored());
  }

  private first(state: ScheduleState): number | undefined {
    const { parsed, schedule } = state;
    if (parsed.kind === 'at') return parsed.at;
    if (parsed.kind === 'rate') return Math.max(schedule.StartDate ?? 0, this.clock.now() + parsed.periodMs);
    return undefined;
  }

  private following(state: ScheduleState, now: number): number | undefined {
    const { parsed, schedule } = state;
    if (parsed.kind !== 'rate' || state.nextFireAt === undefined) return undefined;
    let next = state.nextFireAt + parsed.periodMs;
    while (next <= now) next += parsed.periodMs;
    return schedule.EndDate !== undefined && next > schedule.EndDate ? undefined : next;
  }

  private async deliver(delivery: Delivery): Promise<void> {
    delivery.running = true;
    delivery.attempts += 1;
    const { schedule } = delivery;
    const input = schedule.Target.Input;
    let payload: unknown = {};
    if (input !== undefined) {
      try {
        payload = JSON.parse(input);
      } catch {
        payload = input;
      }
    }
    try {
      await this.options.lambda.invoke(schedule.Target.Arn, payload);
      this.complete(delivery);
    } catch (err) {
      const error = LambdaInvocationError.from(err);
      const maxAttempts = schedule.Target.RetryPolicy?.MaximumRetryAttempts ?? 185;
      const maxAgeMs = (schedule.Target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86400) * 1000;
      const retriesDone = delivery.attempts - 1;
      const delay = this.options.retryDelayMs ?? Math.min(60_000, 1000 * 2 ** retriesDone);
      const now = this.clock.now();
      if (retriesDone >= maxAttempts || now + delay - delivery.firstAttemptAt > maxAgeMs) {
        this.deadLetter(delivery, error, retriesDone >= maxAttempts ? 'MaximumRetryAttempts' : 'MaximumEventAgeInSeconds');
        this.complete(delivery);
      } else {
        this.options.log?.(`schedule ${schedule.Name}: delivery failed (${error.errorType}), retrying`);
        delivery.dueAt = now + delay;
        delivery.running = false;
      }
    }
  }

  private complete(delivery: Delivery): void {
    this.deliveries.splice(this.deliveries.indexOf(delivery), 1);
    const state = this.schedules.get(delivery.key);
    // A schedule updated or deleted meanwhile has its own entry already.
    if (!state || state.schedule !== delivery.schedule || state.fromTemplate) return;
    if (state.nextFireAt === undefined && state.parsed.kind === 'at' && state.schedule.ActionAfterCompletion === 'DELETE') {
      this.schedules.delete(delivery.key);
      this.store.delete(delivery.key);
    } else {
      this.store.fired(delivery.key, state.nextFireAt);
    }
    this.foldIfDue();
  }

  private deadLetter(delivery: Delivery, error: LambdaInvocationError, condition: DeadLetter['exhaustedRetryCondition']): void {
    const { schedule } = delivery;
    const letter: DeadLetter = {
      scheduleArn: schedule.Arn,
      targetArn: schedule.Target.Arn,
      deadLetterArn: schedule.Target.DeadLetterConfig?.Arn,
      input: schedule.Target.Input,
      errorCode: error.errorType,
      errorMessage: error.errorMessage,
      exhaustedRetryCondition: condition,
      retryAttempts: delivery.attempts - 1,
      at: new Date(this.clock.now()).toISOString(),
    };
    this.deadLetterList.push(letter);
    if (this.options.deadLetterFile) writeJsonFile(this.options.deadLetterFile, this.deadLetterList, { fsync: this.options.fsync });
    this.options.log?.(`schedule ${schedule.Name}: gave up after ${letter.retryAttempts} retries (${letter.errorCode}); event kept in the dead-letter file`);
  }

  /** With the system clock, wake up when the next schedule or retry is due. */
  private arm(): void {
    if (this.stopped || !(this.options.autoRun ?? this.clock === systemClock)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const next = this.nextDueAt();
    if (next === undefined || this.running) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.clock.now()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.runDue();
    }, wait);
    this.timer.unref();
  }
}
