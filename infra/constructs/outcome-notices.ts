/**
 * Outcome notices off the reviewer's request path: a rule on the decision bus sends each `hitl.decision` event
 * to the conclude function, which reads the request's row (never the event's detail) and, for a request that
 * has ended, emails the other reviewers their "decided by X" notice (claimed on the row, so once) and shows
 * the outcome on the channels (Slack updates its message). The reviewer's page does not wait for either.
 *
 * Retries: the bus retries getting the event to the function, and Lambda retries an invocation that threw
 * (the table out of reach) twice; what still fails lands in the dead-letter queue. The decision event itself
 * is republished by the monitor when its PutEvents failed, so notices ride on that.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { grantSendEmailFrom } from '../ses.ts';
import { HandlerFunction } from './handler-function.ts';

export const CONCLUDE_HANDLER_ENTRY = 'functions/conclude.ts';

export interface OutcomeNoticesProps {
  /** The bus the stack puts its `hitl.decision` events on. */
  readonly decisionBus: events.IEventBus;
  /** Read for the row; its `outcomeNoticeAt` claims the notices. */
  readonly requestsTable: dynamodb.ITable;
  /** The config's sender: the function may send email from this address only. */
  readonly sender: string;
  /** Table names and the config, as every function gets them. */
  readonly environment: Record<string, string>;
  /** Where events the function could not take, and invocations that failed every retry, are kept. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * What happens to the function's log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class OutcomeNotices extends Construct {
  readonly handler: HandlerFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: OutcomeNoticesProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      entry: CONCLUDE_HANDLER_ENTRY,
      description: 'hitl: tell the other reviewers how a request ended and show it on its channels',
      environment: props.environment,
      timeout: Duration.seconds(30),
      memorySize: 256,
      logRemovalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.handler.failInto(props.deadLetterQueue);
    // The table itself, not its indexes: a row by key and the conditional claim on the notices.
    this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.requestsTable.tableArn] }));
    grantSendEmailFrom(this.handler.role, this, props.sender, ['ses:SendEmail']);

    this.rule = new events.Rule(this, 'Rule', {
      description: 'hitl: send each hitl.decision event to the conclude function (outcome notices, channel updates)',
      eventBus: props.decisionBus,
      eventPattern: { source: ['hitl'], detailType: ['hitl.decision'] },
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: props.deadLetterQueue })],
    });
  }
}
