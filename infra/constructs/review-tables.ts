/**
 * The requests table and the append-only decision log (layouts in shared/tables.ts). Grants name the
 * exact actions and indexes each function needs; the decision log cannot be granted updates or deletes.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { DECISION_LOG, DECISION_LOG_INDEXES, REQUESTS, REQUESTS_INDEXES, type IndexDef } from '#shared/tables.ts';

export type RequestsAction = 'GetItem' | 'PutItem' | 'UpdateItem' | 'Query';
/** Append-only: no UpdateItem, DeleteItem or BatchWriteItem, whoever asks. */
export type DecisionLogAction = 'GetItem' | 'PutItem' | 'Query';

export interface ReviewTablesProps {
  /**
   * Keep the tables (and refuse deletes) when the stack is deleted. Turn off only for dev stacks.
   * @default true
   */
  readonly retain?: boolean;
}

export class ReviewTables extends Construct {
  readonly requests: dynamodb.Table;
  readonly decisionLog: dynamodb.Table;

  constructor(scope: Construct, id: string, props: ReviewTablesProps = {}) {
    super(scope, id);
    const retain = props.retain ?? true;
    this.requests = this.table('Requests', REQUESTS.partitionKey, undefined, REQUESTS.ttlAttribute, REQUESTS_INDEXES, retain);
    this.decisionLog = this.table(
      'DecisionLog',
      DECISION_LOG.partitionKey,
      DECISION_LOG.sortKey,
      DECISION_LOG.ttlAttribute,
      DECISION_LOG_INDEXES,
      retain,
      // New log events stream to S3 for SQL (DecisionAnalytics).
      dynamodb.StreamViewType.NEW_IMAGE,
    );
  }

  /** Requests table access; `Query` covers the table and its pending-by-age and pending-by-respondent indexes. */
  grantRequests(grantee: iam.IGrantable, ...actions: RequestsAction[]): iam.Grant {
    return grant(grantee, this.requests, REQUESTS_INDEXES, actions);
  }

  /** Decision log access; `Query` covers the table and its by-agent, by-action and by-day indexes. */
  grantDecisionLog(grantee: iam.IGrantable, ...actions: DecisionLogAction[]): iam.Grant {
    return grant(grantee, this.decisionLog, DECISION_LOG_INDEXES, actions);
  }

  /** Query on the pending-by-age index only (the monitor reads the queue, never a row by key). */
  grantPendingQueue(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [indexArn(this.requests, REQUESTS.pendingIndex.name)],
    });
  }

  private table(
    id: string,
    partitionKey: string,
    sortKey: string | undefined,
    ttlAttribute: string,
    indexes: readonly IndexDef[],
    retain: boolean,
    stream?: dynamodb.StreamViewType,
  ): dynamodb.Table {
    const table = new dynamodb.Table(this, id, {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: sortKey ? { name: sortKey, type: dynamodb.AttributeType.STRING } : undefined,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ttlAttribute,
      deletionProtection: retain,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      stream,
    });
    for (const index of indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }
}

function indexArn(table: dynamodb.ITable, indexName: string): string {
  return `${table.tableArn}/index/${indexName}`;
}

function grant(grantee: iam.IGrantable, table: dynamodb.ITable, indexes: readonly IndexDef[], actions: readonly string[]): iam.Grant {
  if (actions.length === 0) {
    throw new Error(`Grant on ${table.node.path}: name at least one action, e.g. 'GetItem'`);
  }
  const itemActions = actions.filter((a) => a !== 'Query').map((a) => `dynamodb:${a}`);
  const grants: iam.Grant[] = [];
  if (itemActions.length > 0) {
    grants.push(iam.Grant.addToPrincipal({ grantee, actions: itemActions, resourceArns: [table.tableArn] }));
  }
  if (actions.includes('Query')) {
    const resourceArns = [table.tableArn, ...indexes.map((i) => indexArn(table, i.name))];
    grants.push(iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns }));
  }
  const [first, ...rest] = grants as [iam.Grant, ...iam.Grant[]];
  return rest.reduce((all, g) => all.combine(g), first);
}
