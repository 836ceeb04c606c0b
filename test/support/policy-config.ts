/**
 * A deployment config with a policy of every rule type, shared by the policy tests (unit and local stack):
 * refunds (financial, irreversible), CRM edits (auto-approved when confident), deletions and drops (two
 * approvals of three, with and without veto), sampled reports, risk-checked customer emails.
 */
import type { DeploymentConfigInput } from '#shared/schemas/config.ts';

export const POLICY_CONFIG = {
  sender: 'hitl@example.com',
  lowRiskClasses: ['read-only', 'internal'],
  reviewerGroups: {
    support: {
      tiers: [
        { name: 'support leads', members: ['lead@example.com', 'lead2@example.com'] },
        { name: 'support managers', members: ['manager@example.com'] },
      ],
      defaultTtlSeconds: 1800,
    },
    platform: {
      tiers: [
        { name: 'platform on-call', members: ['ops1@example.com', 'ops2@example.com', 'ops3@example.com'] },
        { name: 'platform leads', members: ['plat-lead@example.com', 'plat-lead2@example.com'] },
      ],
      defaultTtlSeconds: 1800,
    },
    editors: { tiers: [{ name: 'editors', members: ['editor@example.com'] }], defaultTtlSeconds: 3600 },
    solo: { tiers: [{ name: 'owner', members: ['owner@example.com'] }] },
  },
  policy: {
    riskClasses: ['read-only', 'internal', 'customer-facing', 'financial', 'destructive'],
    rules: [
      {
        name: 'refunds',
        match: { kind: 'approval', action: 'refund*' },
        risk: { class: 'financial', reversible: false },
        reviewerGroup: 'support',
        ttl: { min: 300 },
        fallbacks: ['deny', 'escalate'],
      },
      {
        name: 'crm-edits',
        match: { kind: 'approval', action: 'crm.*' },
        risk: { class: 'internal', reversible: true },
        reviewerGroup: 'support',
        autoApprove: { minConfidence: 0.9 },
        fallbacks: ['deny', 'approve'],
      },
      { name: 'deletions', match: { kind: 'approval', action: 'delete*' }, risk: { class: 'destructive', reversible: false }, reviewerGroup: 'platform', quorum: { approvals: 2 } },
      { name: 'drops', match: { kind: 'approval', action: 'drop*' }, risk: { class: 'destructive', reversible: false }, reviewerGroup: 'platform', quorum: { approvals: 2, denyVetoes: false } },
      { name: 'owner-only', match: { agent: 'owner-bot' }, reviewerGroup: 'solo' },
      { name: 'sampled-reports', match: { kind: 'verification', action: 'report' }, risk: { class: 'internal', reversible: true }, reviewerGroup: 'editors', verification: { review: 'sample', rate: 0.1 } },
      {
        name: 'customer-emails',
        match: { kind: 'verification', action: 'email' },
        risk: { class: 'customer-facing', reversible: false },
        reviewerGroup: 'editors',
        verification: { review: 'risk', confidenceBelow: 0.8, allowedDomains: ['example.com'], terms: ['refund', 'lawsuit'], agentRiskAtOrAbove: 'financial' },
      },
    ],
    default: { reviewerGroup: 'support', fallbacks: ['deny', 'escalate'] },
  },
} satisfies DeploymentConfigInput;
