/**
 * SLO metric names (CloudWatch namespace `Hitl`, written as EMF by Powertools Metrics). The stack's alarms
 * and the functions that emit them both read these names.
 */
export const METRICS_NAMESPACE = 'Hitl';

export const METRIC = {
  /** Pending requests per reviewer group (monitor function, every minute). Dimension: ReviewerGroup. */
  queueDepth: 'QueueDepth',
  /** Age of the oldest pending request per group, seconds. Dimension: ReviewerGroup. */
  oldestPendingAge: 'OldestPendingAgeSeconds',
  /** Request created to decision, milliseconds. Dimensions: ReviewerGroup, Outcome. */
  decisionLatency: 'DecisionLatencyMs',
  /** Time boxes that ran out, by the fallback that applied. Dimensions: ReviewerGroup, Policy. */
  expiries: 'Expiries',
  /** Task-token resumes refused because the payload was not the stored Decision (settle step). No extra dimensions. */
  forgedResumes: 'ForgedResumes',
} as const;

export const DIMENSION = { group: 'ReviewerGroup', outcome: 'Outcome', policy: 'Policy' } as const;
