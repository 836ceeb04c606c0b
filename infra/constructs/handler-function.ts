/**
 * One Lambda handler from `functions/`: Node.js 22 on arm64, bundled by the local esbuild as minified ESM
 * (with source maps when SOURCE_MAPS_CONTEXT is set), its own log group (retention from the config) and a
 * role that may write only to that log group; X-Ray active tracing when the config turns it on.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#shared/metrics.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import { functionTracing, logRetention } from '../observability.ts';
import { LOCK_FILE, REPO_ROOT, repoFileExists, repoPath } from '../paths.ts';

/** CloudFormation metadata key on each AWS::Lambda::Function: the handler's entry path relative to the repo. */
export const HANDLER_METADATA_KEY = 'hitl:handler';

/** Service name in every Powertools log line and metric. */
export const POWERTOOLS_SERVICE_NAME = 'hitl';

/**
 * esbuild aliases for the deployed bundles: Lambda gives a function its credentials in environment
 * variables, so the SDK's default credential chain is replaced by its environment link (see
 * shared/lambda-credentials.ts): about 100 KB less per bundle, and less to compile at every cold start.
 */
export const BUNDLE_ALIASES: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': repoPath('shared/lambda-credentials.ts'),
};

/**
 * Construct context key: when true under a scope (HitlService sets it from the config's `sourceMaps`), each
 * HandlerFunction in it ships its source map and runs with Node's --enable-source-maps.
 */
export const SOURCE_MAPS_CONTEXT = 'hitl:sourceMaps';

// Some bundled CommonJS dependencies call require() for Node built-ins; ESM output has no require.
export const ESM_REQUIRE_BANNER = "import { createRequire as __hitlCreateRequire } from 'node:module'; const require = __hitlCreateRequire(import.meta.url);";

export interface HandlerFunctionProps {
  /** Handler entry file relative to the repository root, e.g. `functions/route.ts`; it must export `handler`. */
  readonly entry: string;
  /**
   * What the function does, shown in the Lambda console.
   * @default - no description
   */
  readonly description?: string;
  /**
   * Environment variables on top of the Powertools and source-map settings.
   * @default - none
   */
  readonly environment?: Record<string, string>;
  /**
   * Maximum run time of one invocation.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB (CPU scales with it).
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * How long the function's log group keeps events.
   * @default - the config's `logRetentionDays` (context LOG_RETENTION_CONTEXT), else one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class HandlerFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The entry path as given (relative to the repository root). */
  readonly entry: string;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    if (!/^functions\/[\w./-]+\.ts$/.test(props.entry)) {
      throw new Error(`HandlerFunction ${id}: entry "${props.entry}" must be a .ts file under functions/, relative to the repository root, e.g. "functions/route.ts"`);
    }
    if (!repoFileExists(props.entry)) {
      throw new Error(`HandlerFunction ${id}: entry file ${props.entry} does not exist; create it (exporting \`handler\`) or fix the path`);
    }
    const memorySize = props.memorySize ?? 512;
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
      throw new Error(`HandlerFunction ${id}: memorySize ${memorySize} is outside Lambda's 128-10240 MB; pick a whole number of MB in that range`);
    }
    this.entry = props.entry;
    // Parsing a bundle's source map at load costs each cold start (docs/benchmarks.md): only when asked for.
    const sourceMaps = this.node.tryGetContext(SOURCE_MAPS_CONTEXT) === true;
    const tracing = functionTracing(this);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logRetention(this),
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An own role instead of the AWS managed basic execution policy: logs go to this log group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.entry}`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      entry: repoPath(props.entry),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize,
      role: this.role,
      logGroup: this.logGroup,
      tracing,
      environment: {
        ...(sourceMaps ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        POWERTOOLS_SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: ESM_REQUIRE_BANNER,
        minify: true,
        sourceMap: sourceMaps,
        sourcesContent: false,
        // Ship the SDK versions the tests ran against rather than whatever the runtime carries. Measured
        // (docs/benchmarks.md): loading the SDK from node_modules instead of the bundle makes the
        // cold start's module init more than twice as slow, though the bundle is a third of the size.
        bundleAwsSDK: true,
        esbuildArgs: Object.fromEntries(Object.entries(BUNDLE_ALIASES).map(([from, to]) => [`--alias:${from}`, to])),
        forceDockerBundling: false,
      },
    });
    (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, props.entry);
    if (tracing) {
      acknowledgeWildcardResource(this.role, '*', 'X-Ray trace writes (xray:PutTraceSegments, PutTelemetryRecords), added by CDK for active tracing, have no resource-level permissions.');
    }
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'Pinned to nodejs22.x: the bundle targets node22 and the handlers are tested on it; a runtime upgrade is a deliberate, tested change.',
    });
  }

  addEnvironment(name: string, value: string): void {
    this.function.addEnvironment(name, value);
  }

  /**
   * For asynchronous invocations (rule targets, schedules): how often Lambda retries one that threw, how long
   * an event may wait, and the queue an event goes to once both run out (`hitl redrive` sends it back).
   */
  failInto(deadLetterQueue: sqs.IQueue, options: { retryAttempts?: number; maxEventAge?: Duration } = {}): void {
    this.function.configureAsyncInvoke({
      retryAttempts: options.retryAttempts ?? 2,
      maxEventAge: options.maxEventAge ?? Duration.hours(6),
      onFailure: new destinations.SqsDestination(deadLetterQueue),
    });
  }
}
