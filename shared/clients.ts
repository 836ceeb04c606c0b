/**
 * The logger, metrics and the helpers handlers build their AWS SDK clients with. Each handler constructs
 * only the clients its paths use, so its bundle carries only those (see infra/constructs/handler-function.ts).
 * Endpoints come from the SDK's own configuration (AWS_ENDPOINT_URL_<SERVICE> points them at the local
 * stack), so nothing here knows whether it runs locally.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { METRICS_NAMESPACE } from './metrics.ts';

/** The DocumentClient drops undefined attributes, so optional fields of the stored shapes are simply absent. */
export function documentClient(dynamodb: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * A client constructed on its first use, for one that a function's common path never touches (its code is
 * still bundled; the cold start skips building its configuration). Every property access goes to the client.
 */
export function lazyClient<T extends object>(make: () => T): T {
  let client: T | undefined;
  const target = () => (client ??= make());
  return new Proxy({} as T, {
    get(_, prop) {
      const c = target();
      const value: unknown = Reflect.get(c, prop, c);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(c) : value;
    },
    has: (_, prop) => Reflect.has(target(), prop),
  });
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
