/**
 * Local EventBridge: the template's event buses and rules (AWS::Events::EventBus, AWS::Events::Rule with an
 * EventPattern). An event is matched when it arrives; if a rule matches, the event and the targets it must
 * reach go to `events.jsonl` before PutEvents answers (or before the service that announced it acknowledges
 * anything). Each target then receives it at least once: a failed delivery is retried with backoff per the
 * target's RetryPolicy, then recorded in the dead-letter file; deliveries not done when the process stopped,
 * however it stopped, run again on the next start.
 */
import { appendFileSync } from 'node:fs';
import { eventBusNameOf } from '../aws-ids.ts';
import { FILE_MODE, type Warn } from '../json-file.ts';
import { Journal } from '../journal.ts';
import { LambdaInvocationError, type LocalLambda } from '../lambda.ts';
import type { EventRuleResource, EventTarget } from '../resources.ts';
import { busEvent, type BusEvent } from './event.ts';
import { sendForward } from './forwards.ts';
import { compilePattern, type CompiledPattern } from './pattern.ts';
import { targetInput } from './target-input.ts';

export interface PutEventsEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Resources?: string[];
  EventBusName?: string;
  /** Epoch seconds. */
  Time?: number;
}

export interface PutEventsResultEntry {
  EventId?: string;
  ErrorCode?: string;
  ErrorMessage?: string;
}

/** An event a target could not take after every retry, as it would land in the rule target's DLQ. */
export interface EventDeadLetter {
  eventId: string;
  rule: string;
  targetId: string;
  targetArn: string;
  deadLetterArn?: string;
  errorCode: string;
  errorMessage: string;
  attempts: number;
  at: string;
  event: BusEvent;
}

export interface EventBusOptions {
  rules: readonly EventRuleResource[];
  /** Buses besides `default`. */
  buses: readonly string[];
  lambda: Pick<LocalLambda, 'invoke' | 'has'>;
  /** The journal of accepted events and finished deliveries (`events.jsonl`); omit to keep them in memory. */
  journalFile?: string;
  /** Where deliveries that failed every retry are written, one JSON line each. */
  deadLetterFile?: string;
  /** Wait for the disk (fsync) before acknowledging, not only for the OS. */
  fsync?: boolean;
  /** Pause before each delivery retry, in ms; default backs off 1 s, 2 s, 4 s … up to 60 s. */
  retryDelayMs?: number;
  log?: (line: string) => void;
}

interface Route {
  rule: string;
  target: EventTarget;
  /** `<bus>/<rule>/<target id>`: names the delivery in the journal. */
  key: string;
}

interface LocalRule {
  name: string;
  bus: string;
  test: CompiledPattern;
  routes: Route[];
}

type EventEntry = { op: 'accepted'; event: BusEvent; targets: string[] } | { op: 'done'; id: string; target: string };

interface Delivery {
  event: BusEvent;
  route: Route;
  attempts: number;
  firstAttemptAt: number;
  timer?: NodeJS.Timeout;
}

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;
const FOLD_AT_BYTES = 4 * 1024 * 1024;
/** Ids of accepted events remembered to drop repeats (an announcement made again after a restart). */
const REMEMBERED_IDS = 100_000;

export class EventBusError extends Error {
  constructor(
    readonly type: 'ValidationException' | 'ResourceNotFoundException' | 'InvalidEventPatternException',
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

function entryError(code: string, message: string): PutEventsResultEntry {
  return { ErrorCode: code, ErrorMessage: message };
}

export class EventBus {
  private readonly buses: Set<string>;
  private readonly rules: LocalRule[] = [];
  private readonly routes = new Map<string, Route>();
  private readonly journal: Journal<EventEntry> | undefined;
  /** Deliveries not done yet, by event id and route key. */
  private readonly pending = new Map<string, Map<string, Delivery>>();
  private readonly seen = new Set<string>();
  private readonly running = new Set<Promise<void>>();
  private readonly deadLetterList: EventDeadLetter[] = [];
  private readonly warn: Warn;
  private started = false;
  private stopped = false;
  private closed = false;

  constructor(private readonly options: EventBusOptions) {
    this.warn = options.log ?? (() => undefined);
    this.buses = new Set(['default', ...options.buses]);
    for (const rule of options.rules) this.addRule(rule);
    this.journal = options.journalFile ? new Journal(options.journalFile, { fsync: options.fsync, warn: this.warn }) : undefined;
    this.load();
  }

  busNames(): string[] {
    return [...this.buses];
  }

  ruleList(bus = 'default'): { name: string; bus: string; routes: Route[] }[] {
    return this.rules.filter((r) => r.bus === bus);
  }

  /** PutEvents: each entry is checked on its own; accepted events are durable once `durable()` resolves. */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResultEntry[] {
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new EventBusError('ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length between 1 and ${MAX_ENTRIES}`);
    }
    const size = entries.reduce((sum, e) => sum + Buffer.byteLength(JSON.stringify(e)), 0);
    if (size > MAX_REQUEST_BYTES) throw new EventBusError('ValidationException', 'Total size of the entries in the request is over the limit.');
    return entries.map((entry) => this.putEntry(entry));
  }

  /**
   * An event from an AWS service (`aws.*` source), which clients may not send themselves. Events with an id
   * already accepted are dropped, so a service may announce again what it is not sure was announced.
   */
  putServiceEvent(event: BusEvent, bus = 'default'): void {
    this.accept(event, bus);
  }

  durable(): Promise<void> {
    return this.journal?.durable() ?? Promise.resolve();
  }

  /** Start delivering: the deliveries left from before the restart first. */
  start(): void {
    this.started = true;
    for (const deliveries of this.pending.values()) for (const d of deliveries.values()) this.schedule(d, 0);
  }

  /** Resolves once no delivery is pending or running; throws if some still are after `timeoutMs`. */
  async settled(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0) {
      if (Date.now() > deadline) throw new Error(`Event deliveries still pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  deadLetters(): readonly EventDeadLetter[] {
    return this.deadLetterList;
  }

  /** Stop delivering; let running deliveries finish (up to 5 s). Pending ones stay in the journal. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const deliveries of this.pending.values()) for (const d of deliveries.values()) clearTimeout(d.timer);
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => setTimeout(r, 5000).unref())]);
    this.closed = true;
    this.journal?.close();
  }

  // ---- internals ---------------------------------------------------------------------------------------

  private addRule(rule: EventRuleResource): void {
    if (!rule.enabled) return;
    let test: CompiledPattern;
    try {
      test = compilePattern(rule.pattern);
    } catch (err) {
      this.warn(`event rule ${rule.name}: ${(err as Error).message}; the rule is ignored`);
      return;
    }
    this.buses.add(rule.busName);
    const routes: Route[] = [];
    for (const target of rule.targets) {
      if (!target.forward && !this.options.lambda.has(target.arn)) {
        this.warn(`event rule ${rule.name}: target ${target.id} (${target.arn}) is not a function of the stack; the local event bus delivers to those (and to local forwards) only`);
        continue;
      }
      const route = { rule: rule.name, target, key: `${rule.busName}/${rule.name}/${target.id}` };
      routes.push(route);
      this.routes.set(route.key, route);
    }
    this.rules.push({ name: rule.name, bus: rule.busName, test, routes });
  }

  private putEntry(entry: PutEventsEntry): PutEventsResultEntry {
    if (!entry.Source) return entryError('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
    if (!entry.DetailType) return entryError('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.');
    if (entry.Detail === undefined) return entryError('InvalidArgument', 'Parameter Detail is not valid. Reason: Detail is a required argument.');
    if (entry.Source.startsWith('aws.')) return entryError('NotAuthorizedForSourceException', 'Not authorized for the source.');
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail) as unknown;
    } catch {
      return entryError('MalformedDetail', 'Detail is malformed.');
    }
    if (detail === null || typeof detail !== 'object' || Array.isArray(detail)) return entryError('MalformedDetail', 'Detail is malformed.');
    const event = busEvent({
      source: entry.Source,
      detailType: entry.DetailType,
      detail,
      resources: entry.Resources ?? [],
      at: typeof entry.Time === 'number' ? entry.Time * 1000 : undefined,
    });
    const bus = eventBusNameOf(entry.EventBusName ?? 'default');
    // AWS accepts events for a bus that does not exist, and drops them.
    if (!this.buses.has(bus)) this.warn(`PutEvents to event bus ${bus}, which the template does not define: nothing receives the event`);
    try {
      this.accept(event, bus);
    } catch (err) {
      if (err instanceof RangeError) return entryError('MalformedDetail', 'Detail is nested too deeply.');
      throw err;
    }
    return { EventId: event.id };
  }

  private accept(event: BusEvent, bus: string): void {
    if (this.seen.has(event.id)) return;
    const routes = this.rules.filter((r) => r.bus === bus && r.test(event)).flatMap((r) => r.routes);
    // An event no rule matches is gone, as in AWS: nothing to keep.
    if (routes.length === 0) return;
    this.journal?.append({ op: 'accepted', event, targets: routes.map((r) => r.key) });
    this.remember(event.id);
    const deliveries = new Map(routes.map((route) => [route.key, { event, route, attempts: 0, firstAttemptAt: Date.now() }]));
    this.pending.set(event.id, deliveries);
    if (this.started) for (const d of deliveries.values()) this.schedule(d, 0);
    this.foldIfDue();
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > REMEMBERED_IDS) this.seen.delete(this.seen.values().next().value!);
  }

  /** Accepted events whose deliveries are not all done; the journal is rewritten with just those. */
  private load(): void {
    if (!this.journal) return;
    const entries = this.journal.read();
    const done = new Set(entries.filter((e) => e.op === 'done').map((e) => `${e.id} ${e.target}`));
    for (const entry of entries) {
      if (entry.op !== 'accepted') continue;
      this.remember(entry.event.id);
      const deliveries = new Map<string, Delivery>();
      for (const key of entry.targets) {
        if (done.has(`${entry.event.id} ${key}`)) continue;
        const route = this.routes.get(key);
        if (!route) {
          this.warn(`event ${entry.event.id}: rule target ${key} is no longer in the template; not delivered`);
          continue;
        }
        deliveries.set(key, { event: entry.event, route, attempts: 0, firstAttemptAt: Date.now() });
      }
      if (deliveries.size > 0) this.pending.set(entry.event.id, deliveries);
    }
    if (deliveries(this.pending) > 0) this.warn(`event bus: ${deliveries(this.pending)} delivery(ies) not done before the stop; delivering them again`);
    this.fold();
  }

  private fold(): void {
    this.journal?.rewrite([...this.pending.values()].map((ds) => {
      const [first] = ds.values();
      return { op: 'accepted' as const, event: first!.event, targets: [...ds.keys()] };
    }));
  }

  private foldIfDue(): void {
    if ((this.journal?.bytes ?? 0) > FOLD_AT_BYTES) this.fold();
  }

  private schedule(delivery: Delivery, delayMs: number): void {
    if (this.stopped) return;
    delivery.timer = setTimeout(() => {
      const run = this.deliver(delivery);
      this.running.add(run);
      void run.finally(() => this.running.delete(run));
    }, delayMs);
    delivery.timer.unref();
  }

  private async deliver(delivery: Delivery): Promise<void> {
    const { event, route } = delivery;
    delivery.attempts += 1;
    try {
      const input = targetInput(route.target, event, route.rule);
      if (route.target.forward) await sendForward(route.target.forward, input);
      else await this.options.lambda.invoke(route.target.arn, input);
      this.finish(delivery);
    } catch (err) {
      const error = LambdaInvocationError.from(err);
      const policy = route.target.retryPolicy ?? {};
      const retriesDone = delivery.attempts - 1;
      const delay = this.options.retryDelayMs ?? Math.min(60_000, 1000 * 2 ** retriesDone);
      const maxAgeMs = (policy.maximumEventAgeInSeconds ?? 86_400) * 1000;
      if (retriesDone >= (policy.maximumRetryAttempts ?? 185) || Date.now() + delay - delivery.firstAttemptAt > maxAgeMs) {
        this.deadLetter(delivery, error);
        this.finish(delivery);
      } else {
        this.warn(`event ${event.id} to ${route.key}: delivery failed (${error.errorType}: ${error.errorMessage}), retrying`);
        this.schedule(delivery, delay);
      }
    }
  }

  private finish(delivery: Delivery): void {
    const { event, route } = delivery;
    if (this.closed) return;
    this.journal?.append({ op: 'done', id: event.id, target: route.key });
    const deliveries = this.pending.get(event.id);
    deliveries?.delete(route.key);
    if (deliveries?.size === 0) this.pending.delete(event.id);
    this.foldIfDue();
  }

  private deadLetter(delivery: Delivery, error: LambdaInvocationError): void {
    const { event, route } = delivery;
    const letter: EventDeadLetter = {
      eventId: event.id,
      rule: route.rule,
      targetId: route.target.id,
      targetArn: route.target.arn,
      deadLetterArn: route.target.deadLetterArn,
      errorCode: error.errorType,
      errorMessage: error.errorMessage,
      attempts: delivery.attempts,
      at: new Date().toISOString(),
      event,
    };
    this.deadLetterList.push(letter);
    if (this.options.deadLetterFile) appendFileSync(this.options.deadLetterFile, `${JSON.stringify(letter)}\n`, { mode: FILE_MODE });
    this.warn(`event ${event.id} to ${route.key}: gave up after ${delivery.attempts} attempt(s) (${error.errorType}); kept in the dead-letter file`);
  }
}

function deliveries(pending: Map<string, Map<string, Delivery>>): number {
  return [...pending.values()].reduce((n, ds) => n + ds.size, 0);
}
