/**
 * What happens when a time box ends with nobody deciding. Pure: the expire function carries out the plan.
 */
import type { DeploymentConfig, ReviewerGroup } from '../schemas/config.ts';
import type { Outcome, PolicyName } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import { nextOpening } from './business-hours.ts';
import { describeRisk, raiseRisk, whyNotApprovable, type EffectiveRisk } from './risk.ts';

export type FallbackPlan =
  | { action: 'decide'; outcome: Extract<Outcome, 'expired' | 'approved'>; policy: PolicyName; why: string }
  | { action: 'escalate'; policy: 'fallback-escalate'; why: string; toTier: number }
  | { action: 'hold'; policy: 'fallback-hold'; why: string; until: Date };

function minutes(seconds: number): string {
  const m = Math.round(seconds / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 6) / 10} h`;
}

/**
 * The risk the request was admitted at, still low only if the config still marks its class low. Rows from
 * before policies carry none: the agent's claim, as it was judged then.
 */
function riskOf(row: StoredRequest, config: DeploymentConfig): EffectiveRisk {
  const risk = row.policy?.risk ?? raiseRisk({ classes: config.lowRiskClasses, lowClasses: config.lowRiskClasses }, undefined, row.request.risk);
  return { ...risk, low: risk.low && config.lowRiskClasses.includes(risk.class) };
}

export function planFallback(row: StoredRequest, group: ReviewerGroup, config: DeploymentConfig, now: Date): FallbackPlan {
  const tierName = group.tiers[row.tier - 1]?.name ?? `tier ${row.tier}`;
  const nobody = `No decision from ${tierName} within ${minutes(row.ttlSeconds)}`;
  const deny = (why: string): FallbackPlan => ({ action: 'decide', outcome: 'expired', policy: 'fallback-deny', why });

  switch (row.fallback) {
    case 'deny':
      return deny(`${nobody}; fallback policy deny`);
    case 'approve': {
      const risk = riskOf(row, config);
      const unsafe = whyNotApprovable(risk);
      if (!unsafe) {
        return { action: 'decide', outcome: 'approved', policy: 'fallback-approve', why: `${nobody}; risk class ${risk.class} is marked low and the action is reversible, so fallback approve applies` };
      }
      // Refused at request time; a config change since then must not approve a risky action.
      return deny(`${nobody}; fallback approve refused (${describeRisk(risk)}: ${unsafe}), so denied`);
    }
    case 'escalate': {
      const next = group.tiers[row.tier];
      if (!next) return deny(`${nobody}; ${tierName} is the last tier, so denied`);
      return { action: 'escalate', policy: 'fallback-escalate', toTier: row.tier + 1, why: `${nobody}; escalated to ${next.name}` };
    }
    case 'hold': {
      if (!group.businessHours) return deny(`${nobody}; the group has no business hours to hold for, so denied`);
      if (row.holdUsed) return deny(`${nobody} after the hold; denied`);
      const until = nextOpening(group.businessHours, group.timeZone, now);
      const when = until.getTime() === now.getTime() ? 'now, within business hours' : `at the next opening time`;
      return { action: 'hold', policy: 'fallback-hold', until, why: `${nobody}; held and re-notified ${when}` };
    }
  }
}
