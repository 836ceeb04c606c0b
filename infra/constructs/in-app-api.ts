/**
 * The in-app API: `GET /v1/respondents/{id}/pending`, `GET /v1/requests/{id}` and
 * `POST /v1/requests/{id}/response` to the app-api function, every route behind a JWT authorizer for the
 * host app's identity provider (issuer and audience from the config's `inApp`). API Gateway refuses a
 * missing, badly signed, expired or wrongly addressed token (401) before the function runs; the function
 * then lets a user see and answer only the requests that name them as respondent.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as events from 'aws-cdk-lib/aws-events';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ENV } from '#shared/env.ts';
import type { ExpiryScheduling } from './expiry-scheduling.ts';
import { addLoggedStage } from './api-stage.ts';
import { HandlerFunction } from './handler-function.ts';
import type { ReviewStateMachine } from './review-state-machine.ts';
import type { ReviewTables } from './review-tables.ts';
import type { SigningSecret } from './signing-secret.ts';

export const IN_APP_ENTRY = 'functions/app-api.ts';

export interface InAppApiProps {
  /** The identity provider's issuer URL (`iss`); API Gateway fetches its keys through OIDC discovery. */
  readonly issuer: string;
  /** Accepted audiences (`aud`, or Cognito's `client_id`). */
  readonly audience: readonly string[];
  /** Table names and the config, as every function gets them. */
  readonly environment: Record<string, string>;
  readonly tables: ReviewTables;
  readonly workflow: ReviewStateMachine;
  readonly scheduling: ExpiryScheduling;
  readonly signingSecret: SigningSecret;
  /** Where `hitl.decision` events go. */
  readonly decisionBus: events.IEventBus;
  /** The expire function (a decision deletes the round's expiry schedule, which targets it). */
  readonly expireFunctionArn: string;
  /** The reviewers' API URL (the function shares the review services' settings). */
  readonly reviewApiUrl: string;
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
   * What happens to the log groups when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class InAppApi extends Construct {
  readonly function: HandlerFunction;
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: InAppApiProps) {
    super(scope, id);
    if (!/^https?:\/\/\S+$/.test(props.issuer)) {
      throw new Error(`InAppApi ${id}: issuer ${JSON.stringify(props.issuer)} must be the identity provider's URL, e.g. "https://auth.example.com/"`);
    }
    if (props.audience.length === 0) throw new Error(`InAppApi ${id}: name at least one audience, e.g. the app's client id`);

    this.function = new HandlerFunction(this, 'AppApi', {
      entry: IN_APP_ENTRY,
      description: 'hitl: in-app answers (list, card, answer) behind the JWT authorizer',
      environment: props.environment,
      timeout: Duration.seconds(25),
      logRemovalPolicy: props.logRemovalPolicy,
    });
    const fn = this.function;
    fn.addEnvironment(ENV.signingSecretId, props.signingSecret.secret.secretArn);
    fn.addEnvironment(ENV.scheduleGroup, props.scheduling.scheduleGroupName);
    fn.addEnvironment(ENV.schedulerRoleArn, props.scheduling.schedulerRole.roleArn);
    fn.addEnvironment(ENV.scheduleDlqArn, props.scheduling.deadLetterQueue.queueArn);
    fn.addEnvironment(ENV.expireFunctionArn, props.expireFunctionArn);
    fn.addEnvironment(ENV.baseUrl, props.reviewApiUrl);
    fn.addEnvironment(ENV.eventBusName, props.decisionBus.eventBusName);
    // What finalizeDecision does: the transaction, the resume, the event, the round's schedule removed.
    props.tables.grantRequests(fn.role, 'GetItem', 'UpdateItem', 'Query');
    props.tables.grantDecisionLog(fn.role, 'PutItem');
    props.workflow.grantTaskResponse(fn.role, 'SendTaskSuccess');
    props.scheduling.grantManageSchedules(fn.role);
    props.decisionBus.grantPutEventsTo(fn.role);

    const authorizer = new HttpJwtAuthorizer('Jwt', props.issuer, { jwtAudience: [...props.audience], identitySource: ['$request.header.Authorization'] });
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'In-app answers: a respondent lists, reads and answers their review requests',
      createDefaultStage: false,
      defaultAuthorizer: authorizer,
    });
    const integration = new HttpLambdaIntegration('AppApi', fn.function);
    this.api.addRoutes({ path: '/v1/respondents/{respondentId}/pending', methods: [apigw.HttpMethod.GET], integration });
    this.api.addRoutes({ path: '/v1/requests/{requestId}', methods: [apigw.HttpMethod.GET], integration });
    this.api.addRoutes({ path: '/v1/requests/{requestId}/response', methods: [apigw.HttpMethod.POST], integration });

    ({ stage: this.stage, accessLogs: this.accessLogs } = addLoggedStage(this, this.api, {
      throttle: { rateLimit: props.rateLimit ?? 50, burstLimit: props.burstLimit ?? 100 },
      logFields: {
        requestId: '$context.requestId',
        ip: '$context.identity.sourceIp',
        requestTime: '$context.requestTime',
        httpMethod: '$context.httpMethod',
        routeKey: '$context.routeKey',
        status: '$context.status',
        user: '$context.authorizer.claims.sub',
        authorizerError: '$context.authorizer.error',
        integrationError: '$context.integrationErrorMessage',
      },
      logRemovalPolicy: props.logRemovalPolicy,
    }));
  }

  /** The API's base URL, ending in `/`. */
  get url(): string {
    return this.stage.url;
  }
}
