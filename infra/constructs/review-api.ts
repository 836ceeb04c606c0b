/**
 * The reviewers' HTTP API: `GET|HEAD|POST /r/{requestId}` and the web inbox (`/inbox`, `/inbox/{proxy+}`)
 * to the respond function. Routes carry no authorizer by design: every link is HMAC-signed for one approver
 * and expires, the inbox's session cookie is signed the same way, and the respond function verifies them. The default stage is throttled and writes JSON access logs.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { addLoggedStage } from './api-stage.ts';

export const REVIEW_PATH = '/r/{requestId}';
export const INBOX_PATHS = ['/inbox', '/inbox/{proxy+}'] as const;

export interface ReviewApiProps {
  /** Renders review cards and records decisions. */
  readonly respondFunction: lambda.IFunction;
  /**
   * Steady-state requests per second across the stage.
   * @default 50
   */
  readonly rateLimit?: number;
  /**
   * Requests allowed in a burst above the rate.
   * @default 100
   */
  readonly burstLimit?: number;
  /**
   * How long access logs are kept.
   * @default - the config's `logRetentionDays`, else one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the access log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class ReviewApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ReviewApiProps) {
    super(scope, id);
    const rateLimit = props.rateLimit ?? 50;
    const burstLimit = props.burstLimit ?? 100;
    if (!(rateLimit > 0)) {
      throw new Error(`ReviewApi ${id}: rateLimit ${rateLimit} must be a positive number of requests per second, e.g. 50`);
    }
    if (!Number.isInteger(burstLimit) || burstLimit < 1) {
      throw new Error(`ReviewApi ${id}: burstLimit ${burstLimit} must be a whole number of requests of at least 1, e.g. 100`);
    }

    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Signed review links: review cards and decisions',
      createDefaultStage: false,
    });
    const integration = new HttpLambdaIntegration('Respond', props.respondFunction);
    this.api.addRoutes({
      path: REVIEW_PATH,
      methods: [apigw.HttpMethod.GET, apigw.HttpMethod.HEAD, apigw.HttpMethod.POST],
      integration,
    });
    // The web inbox: its sign-in page, emailed sign-in links, and the forms of a signed-in reviewer.
    for (const path of INBOX_PATHS) this.api.addRoutes({ path, methods: [apigw.HttpMethod.GET, apigw.HttpMethod.HEAD, apigw.HttpMethod.POST], integration });
    for (const route of this.api.node.findAll().filter((c): c is apigw.HttpRoute => c instanceof apigw.HttpRoute)) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason:
          'Reviewers follow emailed links; each link is HMAC-signed for one approver and expiry and verified by the respond function before any read or write. The inbox signs in by such a link and keeps a signed session cookie, verified the same way.',
      });
    }

    ({ stage: this.stage, accessLogs: this.accessLogs } = addLoggedStage(this, this.api, {
      throttle: { rateLimit, burstLimit },
      // No query string: review links carry their signature there.
      logFields: {
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        httpMethod: '$context.httpMethod',
        routeKey: '$context.routeKey',
        path: '$context.path',
        status: '$context.status',
        protocol: '$context.protocol',
        responseLength: '$context.responseLength',
        integrationLatency: '$context.integrationLatency',
        integrationError: '$context.integrationErrorMessage',
        userAgent: '$context.identity.userAgent',
      },
      logRetention: props.logRetention,
      logRemovalPolicy: props.logRemovalPolicy,
    }));
  }

  /** The API's base URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}
