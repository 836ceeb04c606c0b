/**
 * Public on-demand prices in us-east-1 (USD), without free tiers. docs/benchmarks.md lists the source of each
 * and which were confirmed; update both together.
 */
export const PRICES = {
  /** Step Functions Standard: per state transition ($0.025 per 1,000). */
  stateTransition: 0.025 / 1_000,
  /** Lambda: per request ($0.20 per 1M). */
  lambdaRequest: 0.2 / 1_000_000,
  /** Lambda duration per GB-second, Arm (Graviton), which the stack deploys. */
  lambdaGbSecondArm: 0.0000133334,
  /** Lambda duration per GB-second, x86_64, for comparison. */
  lambdaGbSecondX86: 0.0000166667,
  /** DynamoDB on-demand: per write request unit ($0.625 per 1M, since the November 2024 price cut). */
  writeRequestUnit: 0.625 / 1_000_000,
  /** DynamoDB on-demand: per read request unit ($0.125 per 1M). */
  readRequestUnit: 0.125 / 1_000_000,
  /** SES outbound, à la carte: per recipient ($0.10 per 1,000). */
  emailRecipient: 0.1 / 1_000,
  /** API Gateway HTTP API: per request ($1.00 per 1M, first 300M a month). */
  httpApiRequest: 1 / 1_000_000,
  /** EventBridge Scheduler: per invocation ($1.00 per 1M after 14M free a month); API calls are not billed. */
  schedulerInvocation: 1 / 1_000_000,
  /** Secrets Manager: per API call ($0.05 per 10,000). */
  secretsApiCall: 0.05 / 10_000,
  /** EventBridge: per custom event put on a bus ($1.00 per 1M). */
  customEvent: 1 / 1_000_000,
} as const;

/** What one approval used, as counted on the local stack. */
export interface ApprovalUsage {
  stateTransitions: number;
  lambdaInvocations: number;
  /** Sum over invocations of memory (GB) × duration (s). */
  lambdaGbSeconds: number;
  /** Base table plus index writes. */
  writeRequestUnits: number;
  readRequestUnits: number;
  emailRecipients: number;
  httpApiRequests: number;
  schedulerInvocations: number;
  /** Amortized: the functions cache the key ring. */
  secretsApiCalls: number;
  /** `hitl.decision` events put on the bus. */
  customEvents: number;
}

export interface CostLine {
  item: string;
  perApproval: number;
  usdPer1000: number;
}

export function costPer1000(usage: ApprovalUsage): { lines: CostLine[]; total: number } {
  const lines: CostLine[] = [
    { item: 'Step Functions state transitions', perApproval: usage.stateTransitions, usdPer1000: usage.stateTransitions * PRICES.stateTransition * 1000 },
    { item: 'Lambda requests', perApproval: usage.lambdaInvocations, usdPer1000: usage.lambdaInvocations * PRICES.lambdaRequest * 1000 },
    { item: 'Lambda GB-seconds (arm64)', perApproval: usage.lambdaGbSeconds, usdPer1000: usage.lambdaGbSeconds * PRICES.lambdaGbSecondArm * 1000 },
    { item: 'DynamoDB write request units', perApproval: usage.writeRequestUnits, usdPer1000: usage.writeRequestUnits * PRICES.writeRequestUnit * 1000 },
    { item: 'DynamoDB read request units', perApproval: usage.readRequestUnits, usdPer1000: usage.readRequestUnits * PRICES.readRequestUnit * 1000 },
    { item: 'SES email recipients', perApproval: usage.emailRecipients, usdPer1000: usage.emailRecipients * PRICES.emailRecipient * 1000 },
    { item: 'HTTP API requests', perApproval: usage.httpApiRequests, usdPer1000: usage.httpApiRequests * PRICES.httpApiRequest * 1000 },
    { item: 'Scheduler invocations', perApproval: usage.schedulerInvocations, usdPer1000: usage.schedulerInvocations * PRICES.schedulerInvocation * 1000 },
    { item: 'Secrets Manager calls', perApproval: usage.secretsApiCalls, usdPer1000: usage.secretsApiCalls * PRICES.secretsApiCall * 1000 },
    { item: 'EventBridge custom events', perApproval: usage.customEvents, usdPer1000: usage.customEvents * PRICES.customEvent * 1000 },
  ];
  return { lines, total: lines.reduce((sum, l) => sum + l.usdPer1000, 0) };
}

export type Channel = 'email' | 'slack' | 'inbox' | 'in-app';

/**
 * How each channel reaches reviewers and takes the decision, per approval. `perRecipient` calls scale with
 * the reviewers notified; `perApproval` are the reviewer's requests (HTTP API + Lambda) and any notifier run.
 */
export const CHANNEL_MODEL: Record<Channel, { emails: number; perApproval: number; notifierRuns: number; how: string }> = {
  email: { emails: 1, perApproval: 2, notifierRuns: 0, how: 'one SES message per reviewer; the reviewer opens the page (GET) and decides (POST)' },
  slack: { emails: 0, perApproval: 1, notifierRuns: 1, how: 'one message to the group channel (a Lambda run; the Slack API is free); the button click is one HTTP API request' },
  inbox: { emails: 0, perApproval: 2, notifierRuns: 0, how: 'nothing pushed; the reviewer lists the inbox (GET) and decides (POST)' },
  'in-app': { emails: 0, perApproval: 2, notifierRuns: 0, how: 'nothing pushed; the host app reads the request (GET) and posts the decision (POST)' },
};

export interface ChannelCost {
  channel: Channel;
  how: string;
  /** USD per 1,000 approvals with one reviewer notified, and with `recipients`. */
  one: number;
  many: number;
}

/**
 * USD per 1,000 approvals by channel, for 1 and `recipients` reviewers: the measured approval without its
 * email and reviewer requests (the channel-independent core: transitions, the route/request/settle runs,
 * DynamoDB, Scheduler, Secrets Manager, the decision event), plus what the channel adds. A reviewer request
 * or notifier run is priced at the respond function's measured GB-seconds per invocation.
 */
export function channelCosts(usage: ApprovalUsage, respond: { invocations: number; gbSeconds: number }, recipients: number): { core: number; channels: ChannelCost[] } {
  const perRequestGbs = respond.invocations ? respond.gbSeconds / respond.invocations : 0;
  const request = PRICES.httpApiRequest + PRICES.lambdaRequest + perRequestGbs * PRICES.lambdaGbSecondArm;
  const run = PRICES.lambdaRequest + perRequestGbs * PRICES.lambdaGbSecondArm;
  const measured = costPer1000(usage).total / 1000;
  const core = measured - usage.emailRecipients * PRICES.emailRecipient - usage.httpApiRequests * PRICES.httpApiRequest - respond.invocations * PRICES.lambdaRequest - respond.gbSeconds * PRICES.lambdaGbSecondArm;
  const channels = (Object.keys(CHANNEL_MODEL) as Channel[]).map((channel) => {
    const m = CHANNEL_MODEL[channel];
    const at = (n: number) => 1000 * (core + n * m.emails * PRICES.emailRecipient + m.perApproval * request + m.notifierRuns * run);
    return { channel, how: m.how, one: at(1), many: at(recipients) };
  });
  return { core: core * 1000, channels };
}
