/**
 * SQL over the decision log in AWS: the decision log's DynamoDB stream → the decision-stream function →
 * Firehose (JSON converted to Parquet with the Glue table's schema, partitioned by the decision's UTC day)
 * → S3; a Glue table with partition projection over it; an Athena workgroup with encrypted results and a
 * per-query scan limit; the named queries; and a managed policy for the analysts who run them.
 */
import { Aws, Duration, RemovalPolicy, Size, Validations } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DECISION_COLUMNS, DECISIONS_TABLE, GLUE_TYPES, PARTITION_COLUMN } from '#shared/analytics/columns.ts';
import { FINAL_EVENT_NAMES } from '#shared/analytics/rows.ts';
import { NAMED_QUERIES } from '#shared/analytics/queries.ts';
import { ENV } from '#shared/env.ts';
import { HandlerFunction } from './handler-function.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import { logRetention, retainAutoDeleteProviderLogs } from '../observability.ts';

/** S3 prefixes in the analytics bucket. */
export const ANALYTICS_PREFIX = { decisions: 'decisions/', errors: 'errors/', results: 'athena-results/' } as const;

/** Partition projection starts here; days before it are not read. */
const FIRST_DAY = '2024-01-01';

export interface DecisionAnalyticsProps {
  /** The append-only decision log; it must have a stream with new images. */
  readonly decisionLog: dynamodb.ITable;
  /** The requests table: each decision's row reads its request (group, proposal, time box). */
  readonly requestsTable: dynamodb.ITable;
  /** Variables of the decision-stream function: HITL_REQUESTS_TABLE, HITL_DECISIONS_TABLE and HITL_CONFIG. */
  readonly environment: Record<string, string>;
  /** Names the Glue database (lower-cased, dashes as underscores) and the Athena workgroup. */
  readonly name: string;
  /**
   * Athena cancels a query in the workgroup once it has scanned this much.
   * @default Size.gibibytes(1)
   */
  readonly queryScanLimit?: Size;
  /**
   * How long Firehose gathers rows before writing a file (60-900 seconds).
   * @default Duration.minutes(5)
   */
  readonly bufferInterval?: Duration;
  /**
   * Decision rows in S3 expire after this many days, as the tables' rows do with `retentionDays`.
   * @default - kept
   */
  readonly retentionDays?: number;
  /**
   * Where the stream's alarms (dead letters, falling behind) notify.
   * @default - alarms without actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * What happens to the buckets, log group and queue when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class DecisionAnalytics extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly database: glue.CfnDatabase;
  readonly table: glue.CfnTable;
  readonly deliveryStream: firehose.DeliveryStream;
  readonly streamFunction: HandlerFunction;
  readonly deadLetterQueue: sqs.Queue;
  readonly workGroup: athena.CfnWorkGroup;
  readonly namedQueries: Readonly<Record<string, athena.CfnNamedQuery>>;
  readonly analystPolicy: iam.ManagedPolicy;
  readonly alarms: readonly cloudwatch.Alarm[];
  readonly databaseName: string;
  readonly workGroupName: string;

  constructor(scope: Construct, id: string, props: DecisionAnalyticsProps) {
    super(scope, id);
    if (!props.decisionLog.tableStreamArn) {
      throw new Error(`DecisionAnalytics ${id}: the decision log has no stream; create it with stream: StreamViewType.NEW_IMAGE`);
    }
    const buffer = props.bufferInterval ?? Duration.minutes(5);
    if (buffer.toSeconds() < 60 || buffer.toSeconds() > 900) {
      throw new Error(`DecisionAnalytics ${id}: bufferInterval ${buffer.toSeconds()} s is outside Firehose's 60-900 s with dynamic partitioning`);
    }
    const scanLimit = props.queryScanLimit ?? Size.gibibytes(1);
    if (scanLimit.toMebibytes() < 10) {
      throw new Error(`DecisionAnalytics ${id}: queryScanLimit ${scanLimit.toMebibytes()} MiB is below Athena's 10 MB minimum`);
    }
    if (props.retentionDays !== undefined && (!Number.isInteger(props.retentionDays) || props.retentionDays < 1)) {
      throw new Error(`DecisionAnalytics ${id}: retentionDays ${props.retentionDays} must be a whole number of days, at least 1`);
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const destroy = removalPolicy === RemovalPolicy.DESTROY;
    this.databaseName = props.name.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    this.workGroupName = `${props.name}-analytics`;

    // ---- storage -------------------------------------------------------------------------------------
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      lifecycleRules: [{ expiration: Duration.days(90), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'analytics/',
      lifecycleRules: [
        { id: 'AbortUploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        { id: 'QueryResults', prefix: ANALYTICS_PREFIX.results, expiration: Duration.days(30) },
        { id: 'DeliveryErrors', prefix: ANALYTICS_PREFIX.errors, expiration: Duration.days(30) },
        ...(props.retentionDays !== undefined ? [{ id: 'DecisionRetention', prefix: ANALYTICS_PREFIX.decisions, expiration: Duration.days(props.retentionDays) }] : []),
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    if (destroy) retainAutoDeleteProviderLogs(this);

    // ---- catalog -------------------------------------------------------------------------------------
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'hitl: human decisions on AI agent requests' },
    });
    const location = `s3://${this.bucket.bucketName}/${ANALYTICS_PREFIX.decisions}`;
    this.table = new glue.CfnTable(this, 'DecisionsTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: DECISIONS_TABLE,
        description: 'One row per final decision: the hitl_decision record and what analysts group by',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          'projection.enabled': 'true',
          'projection.day.type': 'date',
          'projection.day.format': 'yyyy-MM-dd',
          'projection.day.range': `${FIRST_DAY},NOW`,
          'projection.day.interval': '1',
          'projection.day.interval.unit': 'DAYS',
          'storage.location.template': `${location}day=\${day}/`,
        },
        partitionKeys: [{ name: PARTITION_COLUMN.name, type: GLUE_TYPES[PARTITION_COLUMN.type], comment: PARTITION_COLUMN.doc }],
        storageDescriptor: {
          location,
          columns: DECISION_COLUMNS.map((c) => ({ name: c.name, type: GLUE_TYPES[c.type], comment: c.doc })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: { serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
          compressed: true,
        },
      },
    });
    this.table.addResourceDependency(this.database);

    // ---- delivery ------------------------------------------------------------------------------------
    const deliveryLogs = new logs.LogGroup(this, 'DeliveryLogs', { retention: logRetention(this), removalPolicy });
    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(this.bucket, {
        dataOutputPrefix: `${ANALYTICS_PREFIX.decisions}day=!{partitionKeyFromQuery:day}/`,
        errorOutputPrefix: `${ANALYTICS_PREFIX.errors}!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/`,
        bufferingInterval: buffer,
        // Format conversion and dynamic partitioning both need at least 64 MiB.
        bufferingSize: Size.mebibytes(64),
        dynamicPartitioning: { enabled: true },
        processors: [firehose.MetadataExtractionProcessor.jq16({ day: '.day' })],
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(this.table),
          inputFormat: new firehose.HiveJsonInputFormat({ timestampParsers: [firehose.TimestampParser.EPOCH_MILLIS] }),
          outputFormat: new firehose.ParquetOutputFormat({ compression: firehose.ParquetCompression.SNAPPY }),
        },
        loggingConfig: new firehose.EnableLogging(deliveryLogs),
      }),
    });

    const deliveryRole = this.deliveryStream.node.findChild('S3 Destination Role');
    const grantReason = 'Firehose writes and lists objects it names itself (bucket.grantReadWrite in the Firehose S3 destination); the grant covers this bucket only.';
    for (const action of ['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*']) {
      Validations.of(deliveryRole).acknowledge({ id: `AwsSolutions-IAM5[Action::${action}]`, reason: grantReason });
    }
    acknowledgeWildcardResource(deliveryRole, this.bucket.arnForObjects('*'), grantReason);
    acknowledgeWildcardResource(deliveryRole, '*', 'glue:GetSchemaVersion, which record format conversion calls, has no resource-level permissions; the table grants name this table.');

    // ---- the stream function -------------------------------------------------------------------------
    this.deadLetterQueue = new sqs.Queue(this, 'StreamDeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the decision stream; it holds the stream positions of batches that failed every retry.',
    });
    this.streamFunction = new HandlerFunction(this, 'StreamFunction', {
      entry: 'functions/decision-stream.ts',
      description: 'hitl: decisions from the decision log stream to Firehose, as rows of the decisions table',
      environment: { ...props.environment, [ENV.decisionStream]: this.deliveryStream.deliveryStreamName },
      timeout: Duration.seconds(60),
      memorySize: 256,
      logRemovalPolicy: removalPolicy,
    });
    const fn = this.streamFunction.function;
    fn.addEventSource(
      new DynamoEventSource(props.decisionLog, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(10),
        bisectBatchOnError: true,
        retryAttempts: 10,
        reportBatchItemFailures: true,
        onFailure: new SqsDlq(this.deadLetterQueue),
        // Only final decisions reach the function (and are billed).
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { event: { S: lambda.FilterRule.or(...FINAL_EVENT_NAMES) } } },
          }),
        ],
      }),
    );
    acknowledgeWildcardResource(
      this.streamFunction.role,
      '*',
      'dynamodb:ListStreams, added by the DynamoDB event source, has no resource-level permissions; reading is limited to the decision log stream.',
    );
    iam.Grant.addToPrincipal({ grantee: this.streamFunction.role, actions: ['dynamodb:BatchGetItem'], resourceArns: [props.requestsTable.tableArn] });
    this.deliveryStream.grantPutRecords(this.streamFunction.role);

    // ---- Athena --------------------------------------------------------------------------------------
    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'hitl decision analytics: the decisions table and its named queries',
      state: 'ENABLED',
      recursiveDeleteOption: destroy,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: Math.round(scanLimit.toBytes()),
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.bucket.bucketName}/${ANALYTICS_PREFIX.results}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });
    const named: Record<string, athena.CfnNamedQuery> = {};
    for (const q of NAMED_QUERIES) {
      const query = new athena.CfnNamedQuery(this, `Query-${q.name}`, {
        name: `hitl-${q.name}`,
        description: q.description,
        database: this.databaseName,
        workGroup: this.workGroup.ref,
        queryString: q.sql,
      });
      query.addResourceDependency(this.workGroup);
      query.addResourceDependency(this.database);
      named[q.name] = query;
    }
    this.namedQueries = named;

    // ---- who may query -------------------------------------------------------------------------------
    const catalog = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:catalog`;
    const databaseArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:database/${this.databaseName}`;
    const tableArn = `arn:${Aws.PARTITION}:glue:${Aws.REGION}:${Aws.ACCOUNT_ID}:table/${this.databaseName}/${DECISIONS_TABLE}`;
    const workGroupArn = `arn:${Aws.PARTITION}:athena:${Aws.REGION}:${Aws.ACCOUNT_ID}:workgroup/${this.workGroupName}`;
    this.analystPolicy = new iam.ManagedPolicy(this, 'AnalystPolicy', {
      description: 'Query the hitl decisions table in its Athena workgroup, and read the results',
      statements: [
        new iam.PolicyStatement({
          actions: [
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:GetQueryRuntimeStatistics',
            'athena:ListQueryExecutions',
            'athena:GetWorkGroup',
            'athena:GetNamedQuery',
            'athena:ListNamedQueries',
            'athena:BatchGetNamedQuery',
          ],
          resources: [workGroupArn],
        }),
        new iam.PolicyStatement({ actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartitions'], resources: [catalog, databaseArn, tableArn] }),
        new iam.PolicyStatement({ actions: ['s3:GetBucketLocation', 's3:ListBucket'], resources: [this.bucket.bucketArn] }),
        new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [this.bucket.arnForObjects(`${ANALYTICS_PREFIX.decisions}*`), this.bucket.arnForObjects(`${ANALYTICS_PREFIX.results}*`)] }),
        new iam.PolicyStatement({ actions: ['s3:PutObject', 's3:AbortMultipartUpload'], resources: [this.bucket.arnForObjects(`${ANALYTICS_PREFIX.results}*`)] }),
      ],
    });
    for (const prefix of [ANALYTICS_PREFIX.decisions, ANALYTICS_PREFIX.results]) {
      acknowledgeWildcardResource(this.analystPolicy, this.bucket.arnForObjects(`${prefix}*`), `Athena reads and writes objects whose names it makes; access is limited to the ${prefix} prefix of the analytics bucket.`);
    }

    // ---- alarms --------------------------------------------------------------------------------------
    const notify = props.alarmTopic ? new actions.SnsAction(props.alarmTopic) : undefined;
    const alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps) => {
      const a = new cloudwatch.Alarm(this, alarmId, alarmProps);
      if (notify) {
        a.addAlarmAction(notify);
        a.addOkAction(notify);
      }
      return a;
    };
    this.alarms = [
      alarm('StreamDeadLetterAlarm', {
        alarmDescription: 'Decisions failed to reach S3 after every retry; their stream positions are in the dead-letter queue',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
      alarm('StreamBehindAlarm', {
        alarmDescription: 'The decision stream is more than 15 minutes behind the decision log',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/Lambda',
          metricName: 'IteratorAge',
          dimensionsMap: { FunctionName: fn.functionName },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.minutes(5),
        }),
        threshold: 15 * 60_000,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }),
    ];
  }

  /** Stack outputs: [id, value, description]. */
  outputs(): [string, string, string][] {
    return [
      ['AnalyticsBucketName', this.bucket.bucketName, `Decisions as Parquet under ${ANALYTICS_PREFIX.decisions}day=YYYY-MM-DD/`],
      ['AnalyticsDatabase', this.databaseName, `Glue database of the ${DECISIONS_TABLE} table`],
      ['AnalyticsWorkGroup', this.workGroupName, 'Athena workgroup with the hitl-* named queries'],
      ['AnalystPolicyArn', this.analystPolicy.managedPolicyArn, 'Attach to analysts: query the decisions table in the workgroup'],
    ];
  }
}
