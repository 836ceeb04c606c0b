/**
 * Decision webhooks: a rule on the decision bus sends each `hitl.decision` event to the webhook function,
 * which POSTs the request's Decision to the request's `notify.url` (read from its row, never from the event),
 * signed with its own secret (Standard Webhooks), and records the outcome once in the decision log.
 *
 * Retries: the function retries the POST itself (`webhooks.maxAttempts`, backoff 1 s … 30 s) and records
 * `webhook-failed` when they run out. The bus retries getting the event to the function, and Lambda retries
 * an invocation that threw (the tables or the secret out of reach) twice; what still fails lands in the
 * dead-letter queue.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import type { Webhooks } from '#shared/schemas/config.ts';
import { backoffMs } from '#shared/webhooks/deliver.ts';
import { HandlerFunction } from './handler-function.ts';

export const WEBHOOK_HANDLER_ENTRY = 'functions/webhook.ts';

export interface DecisionWebhooksProps {
  /** The bus the stack puts its `hitl.decision` events on. */
  readonly decisionBus: events.IEventBus;
  /** Read for the URL and the Decision; its `webhook` field records the outcome. */
  readonly requestsTable: dynamodb.ITable;
  /** Where `webhook-delivered` / `webhook-failed` events are appended. */
  readonly decisionLog: dynamodb.ITable;
  /** The deployment's webhook settings: the function's timeout covers every attempt and pause. */
  readonly webhooks: Webhooks;
  /** Table names and the config, as every function gets them. */
  readonly environment: Record<string, string>;
  /** Where events the function could not take, and invocations that failed every retry, are kept. */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * What happens to the signing secret and the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Seconds one delivery may take at most: every attempt timing out, every pause at its longest. */
export function deliverySeconds(webhooks: Pick<Webhooks, 'maxAttempts' | 'timeoutSeconds'>): number {
  let pauses = 0;
  for (let retry = 0; retry < webhooks.maxAttempts - 1; retry++) pauses += backoffMs(retry, 1000, () => 1);
  return webhooks.maxAttempts * webhooks.timeoutSeconds + Math.ceil(pauses / 1000);
}

export class DecisionWebhooks extends Construct {
  /** The signing secret (base64 of 36 random bytes, the Standard Webhooks key); agents verify with it. */
  readonly secret: secretsmanager.Secret;
  readonly handler: HandlerFunction;
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: DecisionWebhooksProps) {
    super(scope, id);
    if (props.webhooks.allowedHosts.length === 0) {
      throw new Error(`DecisionWebhooks ${id}: webhooks.allowedHosts is empty, so no request may name a webhook; leave the construct out, or list the hosts agents may name`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.secret = new secretsmanager.Secret(this, 'SigningSecret', {
      description: 'hitl: the secret decision webhooks are signed with (Standard Webhooks; base64 key, add "whsec_" for verifiers that want it)',
      // 48 characters of [A-Za-z0-9] are valid base64 without padding: a 36-byte key.
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
      removalPolicy,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Every agent that receives webhooks verifies with this secret: it is rotated by hand, together with the agents, not by a Lambda rotator that would break their verification unannounced.',
    });

    this.handler = new HandlerFunction(this, 'Handler', {
      entry: WEBHOOK_HANDLER_ENTRY,
      description: 'hitl: POST the Decision to the request’s notify.url, signed, with retries',
      environment: { ...props.environment, [ENV.webhookSecretId]: this.secret.secretArn },
      timeout: Duration.seconds(deliverySeconds(props.webhooks) + 15),
      memorySize: 256,
      logRemovalPolicy: removalPolicy,
    });
    this.handler.failInto(props.deadLetterQueue);
    this.secret.grantRead(this.handler.role);
    // The tables themselves, not their indexes: a row by key, a conditional update, one appended event.
    this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [props.requestsTable.tableArn] }));
    this.handler.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [props.decisionLog.tableArn] }));

    this.rule = new events.Rule(this, 'Rule', {
      description: 'hitl: send each hitl.decision event to the webhook function',
      eventBus: props.decisionBus,
      eventPattern: { source: ['hitl'], detailType: ['hitl.decision'] },
      targets: [new targets.LambdaFunction(this.handler.function, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: props.deadLetterQueue })],
    });
  }
}
