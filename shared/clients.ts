/**
 * AWS SDK clients and the logger, created once per cold start by the handlers. Endpoints come from the
 * SDK's own configuration (AWS_ENDPOINT_URL_<SERVICE> points them at the local stack), so nothing here
 * knows whether it runs locally.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { METRICS_NAMESPACE } from './metrics.ts';

export interface AwsClients {
  dynamodb: DynamoDBClient;
  doc: DynamoDBDocumentClient;
  sfn: SFNClient;
  ses: SESClient;
  scheduler: SchedulerClient;
  secrets: SecretsManagerClient;
}

/** The DocumentClient drops undefined attributes, so optional fields of the stored shapes are simply absent. */
export function documentClient(dynamodb: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
}

export function createClients(): AwsClients {
  const dynamodb = new DynamoDBClient({});
  return {
    dynamodb,
    doc: documentClient(dynamodb),
    sfn: new SFNClient({}),
    ses: new SESClient({}),
    scheduler: new SchedulerClient({}),
    secrets: new SecretsManagerClient({}),
  };
}

/**
 * Structured JSON logs (Powertools). Service name and level come from POWERTOOLS_SERVICE_NAME and
 * POWERTOOLS_LOG_LEVEL; `fn` tags each line with the function that wrote it.
 */
export function createLogger(fn: string): Logger {
  return new Logger({ serviceName: 'hitl', persistentKeys: { fn } });
}

/** EMF metrics in the project's namespace; publish with `publishStoredMetrics()` or use `singleMetric()`. */
export function createMetrics(fn: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'hitl', defaultDimensions: { fn } });
}

/** The part of the logger domain code uses, so tests and other callers can pass their own. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;
