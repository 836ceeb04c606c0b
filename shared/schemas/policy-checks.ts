/**
 * Checks of the policy against the rest of the deployment config, each reported at the path of the field
 * to fix (`policy.rules.2.autoApprove`). Run by the config schema, so synth, `npm start` and every
 * function's cold start refuse the same configs.
 */
import type { Kind } from './review-request.ts';
import { kindsOf, withDefaults, type Policy, type RuleSettings } from './policy.ts';
import { memberId, type Member } from './member.ts';

export interface PathIssue {
  path: (string | number)[];
  message: string;
}

/** The parts of the deployment config the checks read. */
export interface PolicyContext {
  lowRiskClasses: string[];
  reviewerGroups: Record<string, { tiers: { name: string; members: Member[] }[]; businessHours?: unknown; defaultTtlSeconds: number; maxTtlSeconds: number }>;
  policy?: Policy;
  routing?: unknown;
}

/** An address in two tiers of one group would let whoever escalates a round decide the next one. */
export function tierIssues(config: PolicyContext): PathIssue[] {
  const issues: PathIssue[] = [];
  for (const [name, group] of Object.entries(config.reviewerGroups)) {
    const seen = new Map<string, { tier: number; tierName: string }>();
    group.tiers.forEach((tier, t) => {
      tier.members.forEach((entry, m) => {
        const member = memberId(entry);
        const key = member.toLowerCase();
        const first = seen.get(key);
        if (first && first.tier !== t) {
          issues.push({
            path: ['reviewerGroups', name, 'tiers', t, 'members', m],
            message: `${member} is also in tier ${first.tier + 1} (${first.tierName}); whoever escalates a round must not decide the next one, so an address belongs to one tier`,
          });
        } else if (!first) {
          seen.set(key, { tier: t, tierName: tier.name });
        }
      });
    });
  }
  return issues;
}

const overlap = (kinds: readonly Kind[], wanted: readonly Kind[]) => kinds.some((k) => wanted.includes(k));

function ruleIssues(config: PolicyContext, policy: Policy, settings: RuleSettings, kinds: readonly Kind[], at: (string | number)[], own: Partial<RuleSettings>): PathIssue[] {
  const issues: PathIssue[] = [];
  const classes = policy.riskClasses;
  const add = (field: (string | number)[], message: string) => issues.push({ path: [...at, ...field], message });
  const risk = settings.risk ?? { class: classes.at(-1)!, reversible: false };
  if (own.risk && !classes.includes(own.risk.class)) add(['risk', 'class'], `"${own.risk.class}" is not in policy.riskClasses (${classes.join(', ')})`);
  const low = config.lowRiskClasses.includes(risk.class);
  const unsafe = !risk.reversible ? 'the action is irreversible' : !low ? `risk class ${risk.class} is not in lowRiskClasses` : undefined;
  if (own.autoApprove && unsafe) add(['autoApprove'], `a policy never approves this action: ${unsafe}`);
  if (own.fallbacks?.includes('approve') && unsafe) add(['fallbacks'], `fallback "approve" is refused: ${unsafe}, and a policy never approves such an action`);
  if (own.autoApprove && !kinds.includes('approval')) add(['autoApprove'], 'applies to approval requests, and this rule matches none');
  if (own.autoAnswer && !kinds.includes('disambiguation')) add(['autoAnswer'], 'applies to disambiguation requests, and this rule matches none');
  if (own.verification && !kinds.includes('verification')) add(['verification'], 'applies to verification requests, and this rule matches none');
  if (own.quorum && !overlap(kinds, ['approval', 'verification'])) add(['quorum'], 'applies to approval and verification requests, and this rule matches neither');
  const atOrAbove = own.verification?.review === 'risk' ? own.verification.agentRiskAtOrAbove : undefined;
  if (atOrAbove !== undefined && !classes.includes(atOrAbove)) add(['verification', 'agentRiskAtOrAbove'], `"${atOrAbove}" is not in policy.riskClasses (${classes.join(', ')})`);

  const groupName = settings.reviewerGroup;
  const group = groupName === undefined ? undefined : config.reviewerGroups[groupName];
  if (groupName !== undefined && !group) {
    add(['reviewerGroup'], `no reviewer group "${groupName}" is configured; configured groups: ${Object.keys(config.reviewerGroups).join(', ')}`);
    return issues;
  }
  if (!group) return issues;
  const ttl = settings.ttl ?? {};
  if (ttl.max !== undefined && ttl.max > group.maxTtlSeconds) add(['ttl', 'max'], `${ttl.max} exceeds the maxTtlSeconds of group ${groupName} (${group.maxTtlSeconds})`);
  const max = Math.min(ttl.max ?? Infinity, group.maxTtlSeconds);
  const dflt = ttl.default ?? group.defaultTtlSeconds;
  if (ttl.default === undefined && (dflt < (ttl.min ?? 60) || dflt > max)) {
    add(['ttl', 'default'], `the group's defaultTtlSeconds (${dflt}) is outside this rule's bounds; set ttl.default`);
  }
  if (settings.fallbacks?.includes('hold') && !group.businessHours) add(['fallbacks'], `fallback "hold" needs business hours, and group ${groupName} has none`);
  const needed = settings.quorum?.approvals ?? 1;
  if (needed > 1 && overlap(kinds, ['approval', 'verification'])) {
    group.tiers.forEach((tier, t) => {
      if (tier.members.length < needed) {
        add(['quorum', 'approvals'], `${needed} approvals are needed but tier ${t + 1} (${tier.name}) of group ${groupName} has ${tier.members.length} member${tier.members.length === 1 ? '' : 's'}`);
      }
    });
  }
  return issues;
}

export function policyIssues(config: PolicyContext): PathIssue[] {
  const policy = config.policy;
  if (!policy) return [];
  const issues: PathIssue[] = [];
  if (config.routing !== undefined) {
    issues.push({ path: ['routing'], message: 'with a policy, set these per rule instead (autoApprove, autoAnswer, auditSample); routing applies only to configs without one' });
  }
  const classes = policy.riskClasses;
  config.lowRiskClasses.forEach((c, i) => {
    if (classes[i] !== c) {
      issues.push({ path: ['lowRiskClasses', i], message: `low risk classes must be the lowest of policy.riskClasses, in order (${classes.slice(0, config.lowRiskClasses.length).join(', ')})` });
    }
  });
  const names = new Set<string>([policy.default.name]);
  policy.rules.forEach((rule, i) => {
    if (names.has(rule.name)) issues.push({ path: ['policy', 'rules', i, 'name'], message: `another rule is named "${rule.name}"` });
    names.add(rule.name);
  });

  const d = policy.default;
  const strictest = classes.at(-1)!;
  if (d.risk && (d.risk.class !== strictest || d.risk.reversible)) {
    issues.push({ path: ['policy', 'default', 'risk'], message: `the default rule is the strictest: ${strictest}, irreversible (the highest of policy.riskClasses); leave it out to get that` });
  }
  if (d.autoAnswer) issues.push({ path: ['policy', 'default', 'autoAnswer'], message: 'the default rule is the strictest: whatever no rule matches is asked; set autoAnswer on a rule' });
  if (d.verification && d.verification.review !== 'always') {
    issues.push({ path: ['policy', 'default', 'verification'], message: 'the default rule is the strictest and reviews every draft; set sampling or risk-based review on a rule' });
  }
  if (d.auditSample !== undefined) issues.push({ path: ['policy', 'default', 'auditSample'], message: 'the default rule decides nothing alone, so it has nothing to sample' });
  const strictDefault = { ...d, risk: { class: strictest, reversible: false } };
  issues.push(...ruleIssues(config, policy, strictDefault, kindsOf({}), ['policy', 'default'], d));
  policy.rules.forEach((rule, i) => {
    issues.push(...ruleIssues(config, policy, withDefaults(rule, strictDefault), kindsOf(rule.match), ['policy', 'rules', i], rule));
  });
  return issues;
}
