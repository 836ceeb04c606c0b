/**
 * The Slack channel: the app's bot token and signing secret in one Secrets Manager secret, readable by the
 * functions that post, update and verify Slack messages, and the interactions route on the review API.
 * The secret is created with placeholder values; put the app's real ones in it after the first deploy
 * (docs/channels.md). Created only when the deployment config enables Slack.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { SLACK_INTERACTIONS_PATH } from '#shared/channels/slack-route.ts';
import { ENV } from '#shared/env.ts';

export interface SlackChannelProps {
  /** The reviewers' HTTP API; the interactions route is added to it. */
  readonly api: apigw.HttpApi;
  /** The function behind the interactions route (it verifies Slack's signature). */
  readonly interactionsFunction: lambda.IFunction;
  /** Every function that posts or updates Slack messages: each gets the secret's ARN and read access to it. */
  readonly functions: readonly lambda.Function[];
  /**
   * What happens to the secret when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class SlackChannel extends Construct {
  /** `{"botToken":"xoxb-…","signingSecret":"…"}`. */
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SlackChannelProps) {
    super(scope, id);
    if (props.functions.length === 0) throw new Error(`SlackChannel ${id}: functions is empty; pass the functions that post and update Slack messages`);
    // A random signing secret until the real one is stored: no request verifies against a value anyone knows.
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'Slack app credentials for hitl review messages: {"botToken": "xoxb-…", "signingSecret": "…"}; replace the placeholders with the app\'s values',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ botToken: 'xoxb-replace-me' }),
        generateStringKey: 'signingSecret',
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason: 'Slack issues the bot token and signing secret; they are rotated in the Slack app and stored by hand, which a Lambda rotator cannot do.',
    });
    for (const fn of props.functions) {
      fn.addEnvironment(ENV.slackSecretId, this.secret.secretArn);
      this.secret.grantRead(fn);
    }

    const routes = props.api.addRoutes({
      path: SLACK_INTERACTIONS_PATH,
      methods: [apigw.HttpMethod.POST],
      integration: new HttpLambdaIntegration('SlackInteractions', props.interactionsFunction),
    });
    for (const route of routes) {
      Validations.of(route).acknowledge({
        id: 'AwsSolutions-APIG4',
        reason: 'Slack cannot send IAM or JWT credentials; every request carries Slack\'s HMAC signature (v0) with a timestamp, which the function verifies before reading anything.',
      });
    }
  }
}
