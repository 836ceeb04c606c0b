/**
 * Rule changes proposed from the decision log, each with its evidence, by the rules of thumb for gates:
 * people approve nearly everything (over 99% of at least `minDecisions` reviews): sample it, or auto-approve
 * it if a policy may (reversible, low risk); people deny more than 10%: the agent proposes too aggressively;
 * the same denial reason again and again: a class of proposals is wrong, a candidate rule. Loosening never
 * touches what a policy may not approve, and where loosening and tightening meet, tightening wins. The
 * proposal is a whole deployment config, for `hitl whatif` to check before anyone deploys it.
 */
import type { DeploymentConfig } from '../schemas/config.ts';
import type { DefaultRule, PolicyRule, RuleMatch } from '../schemas/policy.ts';
import type { Kind } from '../schemas/review-request.ts';
import { disagreementOf } from '../review/eval-export.ts';
import { isPolicyDecision, normalizeReason, THRESHOLDS, type DecisionRecord } from '../review/report.ts';
import { describeRisk, whyNotApprovable } from './risk.ts';
import { policyOf, resolveRule, type Rule } from './rules.ts';
import { percent } from './sampling.ts';

export type SuggestionFinding = 'gate-unnecessary' | 'too-aggressive' | 'consistent-denials';

export interface Suggestion {
  finding: SuggestionFinding;
  actionType: string;
  /** Set when the finding is about one agent. */
  agent?: string;
  /** The rule that applies now. */
  rule: string;
  evidence: string;
  advice: string;
  /** The rule the proposal adds, first in the list (absent when the advice is not a policy change). */
  proposed?: PolicyRule;
}

export interface SuggestOptions {
  /** Reviews needed before near-total approval counts as evidence. @default 100 */
  minDecisions?: number;
  /** Sample rate of a loosened gate: the review sample of a verification, the audit sample of auto-approvals. @default 0.1 */
  sampleRate?: number;
}

export interface SuggestResult {
  suggestions: Suggestion[];
  /** The current config with the proposed rules first; absent without a policy or without proposals. */
  proposal?: DeploymentConfig;
}

const GATED: ReadonlySet<string> = new Set(['approved', 'modified', 'denied']);

type WithRequest = DecisionRecord & { request: NonNullable<DecisionRecord['request']> };

/** People's verdicts on a gate (approval or verification): approve, modify, deny. */
function verdicts(records: readonly WithRequest[]): WithRequest[] {
  return records.filter((r) => !isPolicyDecision(r.decision) && (r.decision.kind === 'approval' || r.decision.kind === 'verification') && GATED.has(r.decision.outcome));
}

function matchOf(actionType: string, agent: string | undefined, current: RuleMatch): RuleMatch {
  const [kind, action] = actionType.split('#') as [Kind, string | undefined];
  const agentMatch = agent !== undefined ? { agent } : current.agent !== undefined ? { agent: current.agent } : {};
  return { ...agentMatch, kind, ...(action !== undefined ? { action } : {}) };
}

/** Whether the rule lets some requests of this kind through without a person. */
function passesSome(rule: Rule, kind: Kind): boolean {
  if (kind === 'approval') return rule.autoApprove !== undefined;
  if (kind === 'verification') return rule.verification.review !== 'always';
  return false;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/** The rule as written in the config (the default rule when none matched). */
function writtenRule(config: DeploymentConfig, name: string): PolicyRule | DefaultRule | undefined {
  const policy = config.policy;
  if (!policy) return undefined;
  return policy.rules.find((r) => r.name === name) ?? (policy.default.name === name ? policy.default : undefined);
}

export function suggest(records: readonly DecisionRecord[], config: DeploymentConfig, options: SuggestOptions = {}): SuggestResult {
  const minDecisions = options.minDecisions ?? THRESHOLDS.gateMinDecisions;
  const rate = options.sampleRate ?? 0.1;
  const scale = policyOf(config);
  const withRequest = records.filter((r): r is WithRequest => r.request !== undefined);

  // One group per action type and the rule that applies to it now.
  const groups = new Map<string, { actionType: string; rule: Rule; records: WithRequest[] }>();
  for (const r of withRequest) {
    const rule = resolveRule(config, r.request).rule;
    const key = `${r.actionType}\n${rule.name}`;
    const group = groups.get(key) ?? { actionType: r.actionType, rule, records: [] };
    group.records.push(r);
    groups.set(key, group);
  }

  const suggestions: Suggestion[] = [];
  const names = new Set([...(config.policy?.rules.map((r) => r.name) ?? []), config.policy?.default.name ?? 'default']);
  const propose = (finding: SuggestionFinding, rule: Rule, actionType: string, agent: string | undefined, description: string, change: Partial<PolicyRule>): PolicyRule | undefined => {
    const written = writtenRule(config, rule.name);
    if (!written) return undefined;
    const { name: _name, description: _description, ...fields } = written as PolicyRule;
    const base = slug(`suggested-${finding === 'gate-unnecessary' ? 'loosen' : 'review'}-${actionType}${agent ? `-${agent}` : ''}`).slice(0, 60);
    let name = base;
    for (let i = 2; names.has(name); i++) name = `${base}-${i}`;
    names.add(name);
    const proposed: PolicyRule = { ...fields, ...change, name, description: description.slice(0, 500), match: matchOf(actionType, agent, 'match' in written ? written.match : {}) };
    if (change.autoApprove === undefined && 'autoApprove' in change) delete proposed.autoApprove;
    if (change.auditSample === undefined && 'auditSample' in change) delete proposed.auditSample;
    return proposed;
  };

  const tightened = new Set<string>();
  for (const { actionType, rule, records: group } of groups.values()) {
    const kind = group[0]!.request.kind;
    const gated = verdicts(group);

    // Too aggressive, per agent: people deny more than they should have to.
    const byAgent = new Map<string, WithRequest[]>();
    for (const r of gated) byAgent.set(r.agent, [...(byAgent.get(r.agent) ?? []), r]);
    for (const [agent, rs] of byAgent) {
      const denied = rs.filter((r) => r.decision.outcome === 'denied').length;
      if (rs.length < THRESHOLDS.aggressiveMinDecisions || denied / rs.length <= THRESHOLDS.aggressiveDenialRate) continue;
      const evidence = `people denied ${denied} of ${rs.length} (${percent(denied / rs.length)}) of ${agent}'s ${actionType} requests, above ${percent(THRESHOLDS.aggressiveDenialRate)}`;
      const loose = passesSome(rule, kind);
      const proposed = loose
        ? propose('too-aggressive', rule, actionType, agent, `Review every one: ${evidence}.`, kind === 'approval' ? { autoApprove: undefined, auditSample: undefined } : { verification: { review: 'always' } })
        : undefined;
      if (proposed) tightened.add(actionType);
      suggestions.push({
        finding: 'too-aggressive',
        actionType,
        agent,
        rule: rule.name,
        evidence,
        advice: proposed
          ? `the agent proposes too aggressively: send every one to a person (rule ${proposed.name}) and tighten the agent upstream`
          : 'the agent proposes too aggressively: tighten it upstream (prompt, tool limits); a person already sees every one',
        ...(proposed ? { proposed } : {}),
      });
    }

    // The same denial reason again and again: a class of proposals is wrong.
    const reasons = new Map<string, { reason: string; count: number }>();
    for (const r of group) {
      if (isPolicyDecision(r.decision) || r.decision.outcome !== 'denied' || !r.decision.reason) continue;
      const key = normalizeReason(r.decision.reason);
      const entry = reasons.get(key) ?? { reason: r.decision.reason.trim(), count: 0 };
      entry.count += 1;
      reasons.set(key, entry);
    }
    for (const { reason, count } of reasons.values()) {
      if (count < THRESHOLDS.denialReasonRepeats) continue;
      const evidence = `people denied ${actionType} ${count} times for the same reason: ${JSON.stringify(reason)}`;
      const loose = passesSome(rule, kind) && !tightened.has(actionType);
      const proposed = loose
        ? propose('consistent-denials', rule, actionType, undefined, `Candidate rule. ${evidence}.`, kind === 'approval' ? { autoApprove: undefined, auditSample: undefined } : { verification: { review: 'always' } })
        : undefined;
      if (proposed) tightened.add(actionType);
      suggestions.push({
        finding: 'consistent-denials',
        actionType,
        rule: rule.name,
        evidence,
        advice: proposed
          ? `a class of the agent's proposals is wrong: candidate rule ${proposed.name} sends every one to a person; write the reason into the agent's instructions too`
          : `a class of the agent's proposals is wrong: a person already sees every one, so make the reason a rule for the agent (instructions, tool limits)`,
        ...(proposed ? { proposed } : {}),
      });
    }

    // Near-total approval: the gate is probably unnecessary.
    const agreed = gated.filter((r) => disagreementOf(r) === null);
    if (gated.length < minDecisions || agreed.length / gated.length <= THRESHOLDS.gateApprovalRate || passesSome(rule, kind)) continue;
    const evidence = `people approved ${agreed.length} of ${gated.length} ${actionType} requests (${percent(agreed.length / gated.length)}) as proposed`;
    let advice: string;
    let proposed: PolicyRule | undefined;
    if (tightened.has(actionType)) {
      advice = 'not loosened: people also deny it, see the other findings';
    } else if (kind === 'verification') {
      proposed = propose('gate-unnecessary', rule, actionType, undefined, `Sampled: ${evidence}.`, { verification: { review: 'sample', rate } });
      advice = `the gate is probably unnecessary: review a ${percent(rate)} sample of the drafts instead of every one`;
    } else {
      const risk = rule.risk ? { ...rule.risk, low: scale.lowClasses.includes(rule.risk.class) } : undefined;
      const unsafe = risk ? whyNotApprovable(risk) : undefined;
      const confidences = agreed.map((r) => r.request.confidence).filter((c): c is number => c !== undefined);
      if (!risk) {
        advice = 'the gate is probably unnecessary: with a policy, a rule for it could auto-approve it with an audit sample (routing.autoApproveMinConfidence without one)';
      } else if (unsafe) {
        advice = `a policy never approves ${describeRisk(risk)} actions (${unsafe}): keep the gate and make it cheaper (a shorter card, the right tier)`;
      } else if (confidences.length < agreed.length) {
        advice = 'the agent does not always send a confidence, which auto-approval needs: have it send one, then suggest again';
      } else {
        const minConfidence = Math.max(0.5, Math.floor(Math.min(...confidences) * 20) / 20);
        proposed = propose('gate-unnecessary', rule, actionType, undefined, `Auto-approved with an audit sample: ${evidence}.`, { autoApprove: { minConfidence }, auditSample: rate });
        advice = `the gate is probably unnecessary: auto-approve at confidence ≥ ${minConfidence} (the lowest people approved), keeping a ${percent(rate)} audit sample`;
      }
    }
    suggestions.push({ finding: 'gate-unnecessary', actionType, rule: rule.name, evidence, advice, ...(proposed ? { proposed } : {}) });
  }

  const rules = suggestions.flatMap((s) => (s.proposed ? [s.proposed] : []));
  if (!config.policy || rules.length === 0) return { suggestions };
  // Agent-specific rules first: the first match wins.
  rules.sort((a, b) => Number(b.match.agent !== undefined) - Number(a.match.agent !== undefined));
  return { suggestions, proposal: { ...config, policy: { ...config.policy, rules: [...rules, ...config.policy.rules] } } };
}

export function formatSuggestions(result: SuggestResult, explicit: boolean): string {
  if (result.suggestions.length === 0) return 'No suggestions: no gate is approved nearly always, no agent is denied too often, no denial reason repeats.';
  const lines = result.suggestions.map((s) => `- ${s.agent ? `${s.agent} ` : ''}${s.actionType} (rule ${s.rule}): ${s.evidence}.\n  ${s.advice}.`);
  if (!explicit) lines.push('', 'This config has no policy, so nothing is written: add one (docs/policies.md), then suggest again.');
  return lines.join('\n');
}
