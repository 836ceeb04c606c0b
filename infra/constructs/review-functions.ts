/** The six handlers in `functions/`, with shared settings; the stack wires their grants and variables. */
import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { HandlerFunction } from './handler-function.ts';

export const HANDLER_ENTRIES = {
  route: 'functions/route.ts',
  request: 'functions/request.ts',
  respond: 'functions/respond.ts',
  expire: 'functions/expire.ts',
  monitor: 'functions/monitor.ts',
  settle: 'functions/settle.ts',
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRIES;

export interface ReviewFunctionsProps {
  /**
   * Environment variables every function gets (table names, the config).
   * @default - none beyond the Powertools settings
   */
  readonly environment?: Record<string, string>;
  /**
   * How long each function's log group keeps events.
   * @default - the config's `logRetentionDays`, else one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class ReviewFunctions extends Construct {
  /** Validates the agent's request, applies routing policy. */
  readonly route: HandlerFunction;
  /** Stores the request, schedules its expiry, emails the current tier. */
  readonly request: HandlerFunction;
  /** Behind the HTTP API: renders the review card, records the decision, resumes the execution. */
  readonly respond: HandlerFunction;
  /** Runs on schedules and the backstop: applies the fallback policy. */
  readonly expire: HandlerFunction;
  /** Every minute: queue depth and oldest pending age per reviewer group. */
  readonly monitor: HandlerFunction;
  /** After the human-review task: the stored Decision; on an ended execution: cancels its request. */
  readonly settle: HandlerFunction;

  constructor(scope: Construct, id: string, props: ReviewFunctionsProps = {}) {
    super(scope, id);
    const common = { environment: props.environment, logRetention: props.logRetention, logRemovalPolicy: props.logRemovalPolicy };
    this.route = new HandlerFunction(this, 'Route', {
      ...common,
      entry: HANDLER_ENTRIES.route,
      description: 'hitl: validate a review request and route it (auto-decide or ask a person)',
      timeout: Duration.seconds(10),
    });
    this.request = new HandlerFunction(this, 'Request', {
      ...common,
      entry: HANDLER_ENTRIES.request,
      description: 'hitl: store a review request, schedule its expiry, email the reviewers',
    });
    this.respond = new HandlerFunction(this, 'Respond', {
      ...common,
      entry: HANDLER_ENTRIES.respond,
      description: 'hitl: review card and decision endpoint behind the HTTP API',
      // The HTTP API gives up on an integration after 30 seconds.
      timeout: Duration.seconds(25),
    });
    this.expire = new HandlerFunction(this, 'Expire', {
      ...common,
      entry: HANDLER_ENTRIES.expire,
      description: 'hitl: end a time box and apply the fallback policy',
    });
    this.monitor = new HandlerFunction(this, 'Monitor', {
      ...common,
      entry: HANDLER_ENTRIES.monitor,
      description: 'hitl: publish queue depth and oldest pending age per reviewer group',
      memorySize: 256,
    });
    this.settle = new HandlerFunction(this, 'Settle', {
      ...common,
      entry: HANDLER_ENTRIES.settle,
      description: 'hitl: hand an execution the stored Decision; cancel the request of an execution that ended',
    });
  }

  get all(): readonly HandlerFunction[] {
    return [this.route, this.request, this.respond, this.expire, this.monitor, this.settle];
  }
}
