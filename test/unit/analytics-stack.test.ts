/**
 * The analytics resources in the synthesized stack: the decision log's stream and its filtered event source,
 * Firehose to Parquet partitioned by day, the bucket (encrypted, no public access, TLS only, lifecycle,
 * access logs), the Glue table, the Athena workgroup and named queries, the Logs Insights queries and the
 * dashboard.
 */
import { Duration, Size, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DecisionAnalytics } from '#infra/constructs/decision-analytics.ts';
import { insightsQueries } from '#infra/constructs/decision-dashboard.ts';
import { DECISION_COLUMNS, GLUE_TYPES } from '#shared/analytics/columns.ts';
import { NAMED_QUERIES } from '#shared/analytics/queries.ts';
import { logicalId, synthTemplate, TEST_CONFIG } from '../support/synth.ts';

type Json = Record<string, unknown>;
let template: Template;
beforeAll(() => {
  template = synthTemplate({ config: { ...TEST_CONFIG, retentionDays: 400, analytics: { queryScanLimitMb: 200 } } });
});

const only = (type: string): Json => {
  const all = Object.values(template.findResources(type));
  expect(all, type).toHaveLength(1);
  return (all[0] as { Properties: Json }).Properties;
};

describe('decision stream', () => {
  it('the decision log streams new images; the stream function sees only final decisions', () => {
    const logId = logicalId(template, 'AWS::DynamoDB::Table', 'TablesDecisionLog');
    template.hasResource('AWS::DynamoDB::Table', { Properties: Match.objectLike({ StreamSpecification: { StreamViewType: 'NEW_IMAGE' } }) });
    expect((template.toJSON().Resources[logId] as { Properties: Json }).Properties.StreamSpecification).toEqual({ StreamViewType: 'NEW_IMAGE' });
    const mapping = only('AWS::Lambda::EventSourceMapping');
    expect(mapping).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': [logId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'AnalyticsStreamDeadLetters'), 'Arn'] } } },
    });
    const pattern = JSON.parse((mapping.FilterCriteria as { Filters: { Pattern: string }[] }).Filters[0]!.Pattern) as Json;
    expect(pattern).toEqual({ eventName: ['INSERT'], dynamodb: { NewImage: { event: { S: ['decided', 'expired', 'corrected', 'cancelled'] } } } });
  });

  it('Firehose converts to Parquet with the Glue schema, partitions by the decision day, encrypts at rest', () => {
    const stream = only('AWS::KinesisFirehose::DeliveryStream');
    expect(stream.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    const s3 = stream.ExtendedS3DestinationConfiguration as Json;
    expect(s3.Prefix).toBe('decisions/day=!{partitionKeyFromQuery:day}/');
    expect(s3.ErrorOutputPrefix).toBe('errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/');
    expect(s3.DynamicPartitioningConfiguration).toMatchObject({ Enabled: true });
    expect(s3.BufferingHints).toEqual({ IntervalInSeconds: 300, SizeInMBs: 64 });
    expect(s3.ProcessingConfiguration).toEqual({
      Enabled: true,
      Processors: [
        {
          Type: 'MetadataExtraction',
          Parameters: [
            { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{"day":.day}' },
            { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
          ],
        },
      ],
    });
    const conversion = s3.DataFormatConversionConfiguration as Json;
    expect(conversion).toMatchObject({
      Enabled: true,
      InputFormatConfiguration: { Deserializer: { HiveJsonSerDe: { TimestampFormats: ['millis'] } } },
      OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
      SchemaConfiguration: { DatabaseName: 'hitltest', TableName: { Ref: logicalId(template, 'AWS::Glue::Table', 'AnalyticsDecisionsTable') } },
    });
  });
});

describe('bucket', () => {
  it('encrypted, no public access, TLS only, access-logged, with lifecycle rules', () => {
    const bucketId = logicalId(template, 'AWS::S3::Bucket', 'AnalyticsBucket');
    const bucket = (template.toJSON().Resources[bucketId] as { Properties: Json }).Properties;
    expect(bucket.BucketEncryption).toEqual({ ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    expect(bucket.LoggingConfiguration).toMatchObject({ DestinationBucketName: { Ref: logicalId(template, 'AWS::S3::Bucket', 'AnalyticsAccessLogs') } });
    const rules = (bucket.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Id: 'AbortUploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        expect.objectContaining({ Id: 'QueryResults', Prefix: 'athena-results/', ExpirationInDays: 30 }),
        expect.objectContaining({ Id: 'DeliveryErrors', Prefix: 'errors/', ExpirationInDays: 30 }),
        // retentionDays applies to the rows in S3 as to the tables.
        expect.objectContaining({ Id: 'DecisionRetention', Prefix: 'decisions/', ExpirationInDays: 400 }),
      ]),
    );
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });
});

describe('Glue and Athena', () => {
  it('the Glue table has the columns of the SQL table, partitioned by day with projection, stored as Parquet', () => {
    const table = only('AWS::Glue::Table').TableInput as Json;
    const sd = table.StorageDescriptor as { Columns: { Name: string; Type: string }[]; SerdeInfo: Json; Location: unknown };
    expect(sd.Columns.map((c) => [c.Name, c.Type])).toEqual(DECISION_COLUMNS.map((c) => [c.name, GLUE_TYPES[c.type]]));
    expect(sd.SerdeInfo).toEqual({ SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' });
    expect(table.PartitionKeys).toEqual([expect.objectContaining({ Name: 'day', Type: 'string' })]);
    expect(table.Parameters).toMatchObject({ 'projection.enabled': 'true', 'projection.day.type': 'date', 'projection.day.format': 'yyyy-MM-dd', classification: 'parquet' });
    expect(JSON.stringify((table.Parameters as Json)['storage.location.template'])).toContain('/decisions/day=${day}/');
  });

  it('the workgroup enforces encrypted results in the bucket, engine 3, and the scan limit from the config', () => {
    const wg = only('AWS::Athena::WorkGroup');
    expect(wg.Name).toBe('HitlTest-analytics');
    expect(wg.WorkGroupConfiguration).toMatchObject({
      EnforceWorkGroupConfiguration: true,
      PublishCloudWatchMetricsEnabled: true,
      BytesScannedCutoffPerQuery: 200 * 1024 * 1024,
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } },
    });
    expect(JSON.stringify((wg.WorkGroupConfiguration as { ResultConfiguration: Json }).ResultConfiguration.OutputLocation)).toContain('/athena-results/');
  });

  it('one named query per saved query, with the very SQL hitl sql runs', () => {
    const queries = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((r) => (r as { Properties: Json }).Properties);
    expect(queries.map((q) => q.Name).sort()).toEqual(NAMED_QUERIES.map((q) => `hitl-${q.name}`).sort());
    for (const q of NAMED_QUERIES) {
      const named = queries.find((x) => x.Name === `hitl-${q.name}`)!;
      expect(named).toMatchObject({ Database: 'hitltest', QueryString: q.sql, Description: q.description, WorkGroup: { Ref: logicalId(template, 'AWS::Athena::WorkGroup', 'AnalyticsWorkGroup') } });
    }
  });

  it('an analyst policy to query the workgroup and read the decisions and results, nothing else in the bucket', () => {
    const policy = (template.toJSON().Resources[logicalId(template, 'AWS::IAM::ManagedPolicy', 'AnalyticsAnalystPolicy')] as { Properties: Json }).Properties;
    const statements = (policy.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement;
    const puts = statements.find((s) => JSON.stringify(s.Action).includes('s3:PutObject'))!;
    expect(JSON.stringify(puts.Resource)).toContain('/athena-results/*');
    expect(JSON.stringify(puts.Resource)).not.toContain('/decisions/');
    expect(JSON.stringify(statements)).not.toMatch(/"(athena|glue|s3):\*"/);
  });
});

describe('Logs Insights queries and dashboard', () => {
  it('saved queries for the four signals and the two bottlenecks, over the log groups that write hitl_decision lines', () => {
    const defs = Object.values(template.findResources('AWS::Logs::QueryDefinition')).map((r) => (r as { Properties: Json }).Properties);
    const names = defs.map((d) => String(d.Name).split('/')[1]).sort();
    expect(names).toEqual(['approval-rate', 'decision-latency', 'denial-rate', 'fast-approvals', 'out-of-hours', 'repeated-denials']);
    const expectedGroups = ['FunctionsRoute', 'FunctionsRespond', 'FunctionsExpire', 'FunctionsSettle'].map((p) => ({ Ref: logicalId(template, 'AWS::Logs::LogGroup', `${p}Logs`) }));
    for (const d of defs) {
      expect(d.LogGroupNames).toEqual(expectedGroups);
      expect(String(d.QueryString)).toContain('filter message = "hitl_decision"');
    }
    expect(String(defs.find((d) => String(d.Name).endsWith('/fast-approvals'))!.QueryString)).toContain('least(time_on_card_ms, 3000)');
    expect(Object.keys(insightsQueries())).toHaveLength(6);
  });

  it('a dashboard with queue depth, oldest pending, outcomes, latency, expiries and every alarm', () => {
    const body = JSON.stringify(only('AWS::CloudWatch::Dashboard').DashboardBody);
    for (const text of ['QueueDepth', 'OldestPendingAgeSeconds', 'DecisionLatencyMs', 'Expiries', 'stats count(*) as decisions by human_decision, policy']) expect(body).toContain(text);
    for (const group of Object.keys(TEST_CONFIG.reviewerGroups)) expect(body).toContain(group);
    for (const alarm of Object.keys(template.findResources('AWS::CloudWatch::Alarm'))) expect(body, alarm).toContain(alarm);
  });

  it('stack outputs name the bucket, database, workgroup and analyst policy', () => {
    const outputs = Object.keys(template.toJSON().Outputs as Json);
    expect(outputs).toEqual(expect.arrayContaining(['AnalyticsBucketName', 'AnalyticsDatabase', 'AnalyticsWorkGroup', 'AnalystPolicyArn']));
  });
});

describe('DecisionAnalytics props', () => {
  const tables = () => {
    const stack = new Stack();
    const key = { name: 'requestId', type: dynamodb.AttributeType.STRING };
    return {
      stack,
      withStream: new dynamodb.Table(stack, 'Log', { partitionKey: key, stream: dynamodb.StreamViewType.NEW_IMAGE }),
      without: new dynamodb.Table(stack, 'Plain', { partitionKey: key }),
    };
  };
  it('refuse a decision log without a stream, a buffer Firehose cannot take, a scan limit under Athena\'s minimum', () => {
    const t = tables();
    const base = { requestsTable: t.without, environment: {}, name: 'x' };
    expect(() => new DecisionAnalytics(t.stack, 'A', { ...base, decisionLog: t.without })).toThrow(/has no stream; create it with stream: StreamViewType.NEW_IMAGE/);
    expect(() => new DecisionAnalytics(t.stack, 'B', { ...base, decisionLog: t.withStream, bufferInterval: Duration.seconds(30) })).toThrow(/60-900 s/);
    expect(() => new DecisionAnalytics(t.stack, 'C', { ...base, decisionLog: t.withStream, queryScanLimit: Size.mebibytes(5) })).toThrow(/10 MB minimum/);
    expect(() => new DecisionAnalytics(t.stack, 'D', { ...base, decisionLog: t.withStream, retentionDays: 0 })).toThrow(/at least 1/);
  });
});
