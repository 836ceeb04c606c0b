/**
 * `gate(tool, rule)`: a tool function that asks a person first. Approved, it runs with the approved args
 * (a reviewer may have changed them); denied, expired or cancelled, it returns a short text the model can
 * read (who or which policy said no, and why) instead of throwing.
 */
import type { Decision, Fallback, JsonValue } from './contract.ts';
import type { Hitl, WaitOptions } from './client.ts';

export type ToolArgs = Record<string, JsonValue>;

/** What agent frameworks pass as a tool's second argument (OpenAI Agents, Vercel AI SDK): the call's id. */
export interface ToolCallOptions {
  toolCallId?: string;
}

export interface GateRule<A extends ToolArgs> {
  /** The agent's name, as the card and the decision log show it. */
  agent: string;
  /** The reviewer group of the deployment that decides. */
  reviewerGroup: string;
  risk: { class: string; reversible: boolean };
  /** Why the agent wants to run it; a function of the args for a specific reason. */
  reason: string | ((args: A) => string);
  /** The action name on the card. @default the tool function's name */
  action?: string;
  context?: string | ((args: A) => string);
  confidence?: number;
  ttlSeconds?: number;
  fallback?: Fallback;
  /** Ask only when this says so. @default - always ask */
  when?: (args: A) => boolean;
  /**
   * The idempotency key: the same key gets the same Decision, so an agent restarted mid-call does not ask
   * twice. @default - the framework's tool-call id, when it passes one
   */
  idempotencyKey?: (args: A, call: ToolCallOptions) => string | undefined;
  /** How long one call waits for a person before it gives up (the review stays open). */
  wait?: WaitOptions;
}

/** The tool-result text for a Decision that does not let the tool run; undefined when it may run. */
export function refusalText(action: string, decision: Decision): string | undefined {
  // Only a policy's decision names a policy; a person's names the rule that sent it to them.
  const policy = decision.policy?.name ? ` (policy ${decision.policy.name}: ${decision.policy.why})` : '';
  const reason = decision.reason ? `: ${decision.reason}` : '';
  switch (decision.outcome) {
    case 'approved':
    case 'modified':
      return undefined;
    case 'denied':
      return `Not done: ${action} was denied by ${decision.decidedBy}${reason}${policy}. Do not retry it unchanged.`;
    case 'expired':
      return `Not done: nobody approved ${action} in time${reason}${policy}. Do not proceed without approval.`;
    case 'cancelled':
      return `Not done: the review of ${action} was cancelled${reason}${policy}.`;
    default:
      return `Not done: ${action} ended as ${decision.outcome}${reason}${policy}.`;
  }
}

export function gate<A extends ToolArgs, R>(
  hitl: Pick<Hitl, 'review'>,
  tool: (args: A, call?: ToolCallOptions) => Promise<R>,
  rule: GateRule<A>,
): (args: A, call?: ToolCallOptions) => Promise<R | string> {
  const action = rule.action ?? (tool.name || 'tool');
  return async (args: A, call: ToolCallOptions = {}) => {
    if (rule.when && !rule.when(args)) return tool(args, call);
    const idempotencyKey = rule.idempotencyKey ? rule.idempotencyKey(args, call) : call.toolCallId;
    const decision = await hitl.review(
      {
        kind: 'approval',
        agent: rule.agent,
        action: { name: action, args },
        reason: typeof rule.reason === 'function' ? rule.reason(args) : rule.reason,
        risk: rule.risk,
        reviewerGroup: rule.reviewerGroup,
        ...(rule.context === undefined ? {} : { context: typeof rule.context === 'function' ? rule.context(args) : rule.context }),
        ...(rule.confidence === undefined ? {} : { confidence: rule.confidence }),
        ...(rule.ttlSeconds === undefined ? {} : { ttlSeconds: rule.ttlSeconds }),
        ...(rule.fallback === undefined ? {} : { fallback: rule.fallback }),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      },
      rule.wait,
    );
    const refusal = refusalText(action, decision);
    if (refusal !== undefined) return refusal;
    return tool((decision.approvedArgs as A | undefined) ?? args, call);
  };
}
