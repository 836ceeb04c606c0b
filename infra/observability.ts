/**
 * What the deployment config says about logs and traces, as construct context: HitlService sets it from the
 * config's `logRetentionDays` and `tracing`, and every log group and function under it reads it, so constructs
 * of your own placed inside the service get the same settings.
 */
import { CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** Construct context key: days a log group keeps events (a CloudWatch Logs retention). */
export const LOG_RETENTION_CONTEXT = 'hitl:logRetentionDays';

/** Construct context key: when true, functions run with X-Ray active tracing. */
export const TRACING_CONTEXT = 'hitl:tracing';

/** Retention of log groups made under `scope`: the configured days, else one month. */
export function logRetention(scope: Construct): logs.RetentionDays {
  const days: unknown = scope.node.tryGetContext(LOG_RETENTION_CONTEXT);
  if (days === undefined) return logs.RetentionDays.ONE_MONTH;
  if (typeof days !== 'number' || !Object.values(logs.RetentionDays).includes(days)) {
    throw new Error(`Context ${LOG_RETENTION_CONTEXT} must be a CloudWatch Logs retention in days (1, 3, 5, 7, 14, 30, 60, 90, …), got ${JSON.stringify(days)}`);
  }
  return days as logs.RetentionDays;
}

/** Lambda tracing of functions made under `scope`: active when the config turns tracing on, else none. */
export function functionTracing(scope: Construct): lambda.Tracing | undefined {
  return scope.node.tryGetContext(TRACING_CONTEXT) === true ? lambda.Tracing.ACTIVE : undefined;
}

/** Id of CDK's singleton provider behind `autoDeleteObjects` buckets, at the stack's root. */
const AUTO_DELETE_PROVIDER_ID = 'Custom::S3AutoDeleteObjectsCustomResourceProvider';

/**
 * CDK's provider function for `autoDeleteObjects` buckets logs to a log group Lambda makes on its first run,
 * kept forever. Give it one of ours with the configured retention (once per stack; call after the buckets).
 */
export function retainAutoDeleteProviderLogs(scope: Construct): void {
  const stack = Stack.of(scope);
  const handler = stack.node.tryFindChild(AUTO_DELETE_PROVIDER_ID)?.node.tryFindChild('Handler');
  if (!(handler instanceof CfnResource) || stack.node.tryFindChild('AutoDeleteObjectsLogs')) return;
  const logGroup = new logs.LogGroup(stack, 'AutoDeleteObjectsLogs', { retention: logRetention(scope), removalPolicy: RemovalPolicy.DESTROY });
  handler.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
  handler.addDependency(logGroup.node.defaultChild as CfnResource);
}
