/** The `$default` stage of an HTTP API: auto-deployed, throttled, with JSON access logs in a log group of its own. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { logRetention } from '../observability.ts';

export interface LoggedStageProps {
  throttle: { rateLimit: number; burstLimit: number };
  /** Access log fields: name → `$context` variable. */
  logFields: Record<string, string>;
  logRetention?: logs.RetentionDays;
  logRemovalPolicy?: RemovalPolicy;
}

/** Adds the stage to `api`, and its log group (id `AccessLogs`) to `scope`. */
export function addLoggedStage(scope: Construct, api: apigw.HttpApi, props: LoggedStageProps): { stage: apigw.HttpStage; accessLogs: logs.LogGroup } {
  const accessLogs = new logs.LogGroup(scope, 'AccessLogs', {
    retention: props.logRetention ?? logRetention(scope),
    removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
  });
  const stage = api.addStage('DefaultStage', {
    stageName: '$default',
    autoDeploy: true,
    throttle: props.throttle,
    accessLogSettings: {
      destination: new apigw.LogGroupLogDestination(accessLogs),
      format: AccessLogFormat.custom(JSON.stringify(props.logFields)),
    },
  });
  return { stage, accessLogs };
}
