/**
 * What operators and analysts look at in CloudWatch: a dashboard (queue depth and oldest pending per group,
 * decisions by outcome and by policy, latency, expiries, alarm states) and saved Logs Insights queries over
 * the `hitl_decision` log lines for the learning loop's four signals (approval rate, denial rate, repeated
 * denials, decision latency) and the two bottlenecks (rubber-stamping, out-of-hours).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';
import { DIMENSION, METRIC, METRICS_NAMESPACE } from '#shared/metrics.ts';
import { HITL_DECISION_MESSAGE } from '#shared/review/decision-record.ts';
import { THRESHOLDS } from '#shared/review/report.ts';

export interface DecisionDashboardProps {
  /** Names the dashboard (`<name>-decisions`) and prefixes the saved queries (`<name>/…`). */
  readonly name: string;
  /** Reviewer groups from the config: one queue line each. */
  readonly reviewerGroups: readonly string[];
  /**
   * Dimensions the monitor puts on every queue metric besides ReviewerGroup.
   * @default - none
   */
  readonly queueMetricDimensions?: Readonly<Record<string, string>>;
  /** Log groups of the functions that write `hitl_decision` lines (those that finalize requests). */
  readonly decisionLogGroups: readonly logs.ILogGroup[];
  /**
   * Alarms whose state the dashboard shows.
   * @default - none
   */
  readonly alarms?: readonly cloudwatch.IAlarm[];
  /**
   * Oldest-pending alarm threshold, drawn on the graph.
   * @default - no line
   */
  readonly oldestPendingAgeSeconds?: number;
}

/** A saved Logs Insights query: what it tells, and the query. */
export interface InsightsQuery {
  readonly purpose: string;
  readonly query: logs.QueryStringProps;
}

/** The saved Logs Insights queries over `hitl_decision` lines (null fields are absent from the lines). */
export function insightsQueries(fastApprovalMs: number = THRESHOLDS.fastApprovalMs): Record<string, InsightsQuery> {
  const lines = `message = "${HITL_DECISION_MESSAGE}"`;
  const people = `${lines} and ispresent(user_id)`;
  const verdicts = `${people} and (kind = "approval" or kind = "verification") and (human_decision = "approved" or human_decision = "modified" or human_decision = "denied")`;
  return {
    'approval-rate': {
      purpose: 'above 99% over 100 or more reviews: the gate is probably unnecessary',
      query: {
        fields: ['strcontains(human_decision, "approved") + strcontains(human_decision, "modified") as approved'],
        filterStatements: [verdicts],
        statsStatements: ['count(*) as reviews, sum(approved) / count(*) * 100 as approval_pct by action_type'],
        sort: 'approval_pct desc',
      },
    },
    'denial-rate': {
      purpose: 'above 10%: the agent proposes too aggressively; tighten it upstream',
      query: {
        fields: ['strcontains(human_decision, "denied") as denied'],
        filterStatements: [verdicts],
        statsStatements: ['count(*) as reviews, sum(denied) / count(*) * 100 as denial_pct by agent, action_type'],
        sort: 'denial_pct desc',
      },
    },
    'repeated-denials': {
      purpose: 'the same reason again and again: a class of proposals is wrong; investigate it',
      query: {
        fields: ['tolower(human_feedback.reason) as reason'],
        filterStatements: [`${people} and human_decision = "denied"`],
        statsStatements: ['count(*) as denials by action_type, reason'],
        sort: 'denials desc',
        limit: 50,
      },
    },
    'decision-latency': {
      purpose: "long latency: the review surface isn't working; redesign it",
      query: {
        filterStatements: [people],
        statsStatements: ['count(*) as decisions, pct(decision_latency_ms, 50) as p50_ms, pct(decision_latency_ms, 90) as p90_ms, max(decision_latency_ms) as max_ms by action_type'],
        sort: 'p90_ms desc',
      },
    },
    'fast-approvals': {
      purpose: `approvals within ${fastApprovalMs / 1000} s of opening the card, per reviewer: possible rubber-stamping`,
      query: {
        fields: [`1 - floor(least(time_on_card_ms, ${fastApprovalMs}) / ${fastApprovalMs}) as fast`],
        filterStatements: [`${people} and ispresent(time_on_card_ms) and (human_decision = "approved" or human_decision = "modified")`],
        statsStatements: ['count(*) as approvals, sum(fast) / count(*) * 100 as fast_pct, pct(time_on_card_ms, 50) as median_card_ms by user_id'],
        sort: 'fast_pct desc',
      },
    },
    'out-of-hours': {
      purpose: 'requests arriving out of hours: how many, and whether they wait longer or expire',
      query: {
        fields: ['strcontains(human_decision, "expired") as expired'],
        filterStatements: [`${lines} and ispresent(out_of_hours)`],
        statsStatements: ['count(*) as decisions, sum(expired) / count(*) * 100 as expired_pct, pct(decision_latency_ms, 50) as p50_ms, pct(decision_latency_ms, 90) as p90_ms by out_of_hours'],
      },
    },
  };
}

export class DecisionDashboard extends Construct {
  /** Every alarm defined in `scope` so far: create the dashboard last and it shows them all. */
  static alarmsIn(scope: IConstruct): cloudwatch.IAlarm[] {
    return scope.node.findAll().filter((c): c is cloudwatch.Alarm => c instanceof cloudwatch.Alarm);
  }

  readonly dashboard: cloudwatch.Dashboard;
  readonly queries: Readonly<Record<string, logs.QueryDefinition>>;

  constructor(scope: Construct, id: string, props: DecisionDashboardProps) {
    super(scope, id);
    if (props.reviewerGroups.length === 0) throw new Error(`DecisionDashboard ${id}: reviewerGroups is empty; pass the group names from the deployment config`);
    if (props.decisionLogGroups.length === 0) throw new Error(`DecisionDashboard ${id}: decisionLogGroups is empty; pass the log groups of the functions that finalize requests`);

    const queries: Record<string, logs.QueryDefinition> = {};
    for (const [name, { query }] of Object.entries(insightsQueries())) {
      queries[name] = new logs.QueryDefinition(this, `Query-${name}`, {
        queryDefinitionName: `${props.name}/${name}`,
        queryString: new logs.QueryString(query),
        logGroups: [...props.decisionLogGroups],
      });
    }
    this.queries = queries;

    const period = Duration.minutes(5);
    const perGroup = (metricName: string, statistic: string, label: string) =>
      props.reviewerGroups.map(
        (group) =>
          new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName,
            dimensionsMap: { ...props.queueMetricDimensions, [DIMENSION.group]: group },
            statistic,
            period: Duration.minutes(1),
            label: `${group} ${label}`,
          }),
      );
    const search = (metric: string, dims: string, statistic: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${METRICS_NAMESPACE},${dims}} MetricName="${metric}"', '${statistic}', ${period.toSeconds()})`,
        label,
        period,
      });
    const decisionDims = [DIMENSION.outcome, DIMENSION.group, 'fn', 'service'].sort().join(',');
    const expiryDims = [DIMENSION.policy, DIMENSION.group, 'fn', 'service'].sort().join(',');

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `${props.name}-decisions`,
      defaultInterval: Duration.days(1),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Queue depth (pending requests) per group', left: perGroup(METRIC.queueDepth, cloudwatch.Stats.MAXIMUM, 'pending'), width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'Oldest pending request per group (seconds)',
        left: perGroup(METRIC.oldestPendingAge, cloudwatch.Stats.MAXIMUM, 'oldest'),
        leftAnnotations: props.oldestPendingAgeSeconds ? [{ value: props.oldestPendingAgeSeconds, label: 'alarm', color: cloudwatch.Color.RED }] : [],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Decisions by outcome (people and fallbacks)', left: [search(METRIC.decisionLatency, decisionDims, 'SampleCount', '')], stacked: true, width: 12 }),
      new cloudwatch.GraphWidget({
        title: 'Decision latency (ms): p50 and p90',
        left: [search(METRIC.decisionLatency, decisionDims, 'p50', 'p50'), search(METRIC.decisionLatency, decisionDims, 'p90', 'p90')],
        width: 12,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Expiries by fallback policy', left: [search(METRIC.expiries, expiryDims, 'Sum', '')], stacked: true, width: 12 }),
      new cloudwatch.LogQueryWidget({
        title: 'Decisions by outcome and policy (hitl_decision lines)',
        logGroupNames: props.decisionLogGroups.map((g) => g.logGroupName),
        queryLines: [`filter message = "${HITL_DECISION_MESSAGE}"`, 'stats count(*) as decisions by human_decision, policy', 'sort decisions desc'],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 12,
      }),
    );
    if (props.alarms && props.alarms.length > 0) {
      this.dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24 }));
    }
  }
}
