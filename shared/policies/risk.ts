/**
 * Risk as the deployment sees it: classes ranked lowest first, and the rule that an agent's claim may raise
 * the policy's risk but never lower it. A class the deployment does not list ranks above every listed one.
 */
import type { RuleRisk } from '../schemas/policy.ts';

export interface EffectiveRisk extends RuleRisk {
  /** In lowRiskClasses: a policy may auto-approve it and it may use the approve fallback, if also reversible. */
  low: boolean;
}

export interface RiskScale {
  /** Lowest first. */
  classes: readonly string[];
  lowClasses: readonly string[];
}

export function rankOf(scale: RiskScale, riskClass: string): number {
  const i = scale.classes.indexOf(riskClass);
  return i < 0 ? Infinity : i;
}

/** The stricter of the policy's risk and the agent's claim; without a policy risk, the claim as it is. */
export function raiseRisk(scale: RiskScale, policy: RuleRisk | undefined, claim: RuleRisk): EffectiveRisk {
  const riskClass = policy === undefined || rankOf(scale, claim.class) > rankOf(scale, policy.class) ? claim.class : policy.class;
  const reversible = (policy?.reversible ?? true) && claim.reversible;
  return { class: riskClass, reversible, low: scale.lowClasses.includes(riskClass) };
}

/** Why a policy may not approve this action on its own, or undefined when it may. */
export function whyNotApprovable(risk: EffectiveRisk): string | undefined {
  if (!risk.reversible) return 'the action is not reversible';
  if (!risk.low) return `risk class ${risk.class} is not marked low`;
  return undefined;
}

/** "financial · irreversible" */
export function describeRisk(risk: RuleRisk): string {
  return `${risk.class} · ${risk.reversible ? 'reversible' : 'irreversible'}`;
}
