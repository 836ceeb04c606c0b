/**
 * The hitl stack: the deployment config from cdk.json (or a file), one HitlService with everything it runs,
 * and the stack outputs. Add further parts of the service inside HitlService, so stacks of your own that use
 * the construct get them too.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { parseDeploymentConfig, type DeploymentConfig } from '#shared/schemas/config.ts';
import type { DecisionAnalytics } from './constructs/decision-analytics.ts';
import type { DecisionDashboard } from './constructs/decision-dashboard.ts';
import type { DecisionWebhooks } from './constructs/decision-webhooks.ts';
import type { ExpiryScheduling } from './constructs/expiry-scheduling.ts';
import type { InAppApi } from './constructs/in-app-api.ts';
import { HitlService, type HitlServiceProps } from './constructs/hitl-service.ts';
import type { ReviewApi } from './constructs/review-api.ts';
import type { ReviewFunctions } from './constructs/review-functions.ts';
import type { ReviewStateMachine } from './constructs/review-state-machine.ts';
import type { ReviewTables } from './constructs/review-tables.ts';
import type { SigningSecret } from './constructs/signing-secret.ts';
import type { SloAlarms } from './constructs/slo-alarms.ts';

export interface HitlStackProps extends StackProps, Partial<Omit<HitlServiceProps, 'config' | 'configSource' | 'name'>> {
  /** The deployment config as written (cdk.json context `hitl` or a JSON file); validated here. */
  readonly config: unknown;
  /**
   * Names the config's origin in validation errors.
   * @default 'hitl config'
   */
  readonly configSource?: string;
}

/**
 * The construct id of the service. CDK leaves a `Default` id out of logical ids, so the resources keep the
 * logical ids they had when the stack built them itself: a deployed stack updates in place.
 */
export const SERVICE_ID = 'Default';

export class HitlStack extends Stack {
  readonly service: HitlService;
  readonly config: DeploymentConfig;
  readonly tables: ReviewTables;
  readonly functions: ReviewFunctions;
  readonly workflow: ReviewStateMachine;
  readonly api: ReviewApi;
  readonly scheduling: ExpiryScheduling;
  readonly signingSecret: SigningSecret;
  readonly alarms: SloAlarms;
  readonly agentPolicy: iam.ManagedPolicy;
  readonly decisionBus: events.EventBus;
  readonly executionEnded: events.Rule;
  readonly analytics: DecisionAnalytics;
  readonly dashboard: DecisionDashboard;
  readonly webhooks?: DecisionWebhooks;
  readonly inApp?: InAppApi;

  constructor(scope: Construct, id: string, props: HitlStackProps) {
    const { config: input, configSource = 'hitl config', tableRemovalPolicy, removalPolicy, apiThrottle, publicBaseUrl, alarmTopic, alarmEmails, ...stackProps } = props;
    super(scope, id, stackProps);
    const config = parseDeploymentConfig(input, configSource);
    this.service = new HitlService(this, SERVICE_ID, { config, configSource, tableRemovalPolicy, removalPolicy, apiThrottle, publicBaseUrl, alarmTopic, alarmEmails });
    ({
      config: this.config,
      tables: this.tables,
      functions: this.functions,
      workflow: this.workflow,
      api: this.api,
      scheduling: this.scheduling,
      signingSecret: this.signingSecret,
      alarms: this.alarms,
      agentPolicy: this.agentPolicy,
      decisionBus: this.decisionBus,
      executionEnded: this.executionEnded,
      analytics: this.analytics,
      dashboard: this.dashboard,
      webhooks: this.webhooks,
      inApp: this.inApp,
    } = this.service);

    for (const [outputId, value, description] of this.service.outputs()) new CfnOutput(this, outputId, { value, description });
  }
}
