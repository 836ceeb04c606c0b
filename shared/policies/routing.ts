/**
 * Which requests a person must see. Pure: the route function applies the result. A policy only decides
 * what is safe to decide without a person; everything else, and an audit sample of those, goes to review.
 */
import { createHash } from 'node:crypto';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { ChoiceOption, ReviewRequest } from '../schemas/review-request.ts';

export type RoutePlan =
  | { route: 'auto'; policy: 'auto-approve'; outcome: 'approved'; why: string }
  | { route: 'auto'; policy: 'auto-answer'; outcome: 'answered'; option: ChoiceOption; why: string }
  | { route: 'review'; why: string };

/** A stable number in [0, 1) per request, so a replayed execution lands on the same side of the sample. */
export function sampleFraction(requestId: string): number {
  const digest = createHash('sha256').update(`sample\n${requestId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function isSampled(requestId: string, sampleRate: number): boolean {
  return sampleRate > 0 && sampleFraction(requestId) < sampleRate;
}

function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

export function planRoute(request: ReviewRequest, requestId: string, config: DeploymentConfig): RoutePlan {
  const { routing } = config;
  const sampled = isSampled(requestId, routing.sampleRate);
  const confidence = request.confidence;

  if (request.kind === 'approval') {
    const threshold = routing.autoApproveMinConfidence;
    if (threshold === undefined) return { route: 'review', why: 'auto-approval is not configured' };
    const riskClass = request.risk.class;
    if (!config.lowRiskClasses.includes(riskClass)) return { route: 'review', why: `risk class ${riskClass} is not marked low` };
    if (!request.risk.reversible) return { route: 'review', why: 'the action is not reversible' };
    if (confidence === undefined) return { route: 'review', why: 'the agent gave no confidence' };
    if (confidence < threshold) return { route: 'review', why: `confidence ${confidence} is below ${threshold}` };
    if (sampled) return { route: 'review', why: `picked for the ${percent(routing.sampleRate)} audit sample` };
    return {
      route: 'auto',
      policy: 'auto-approve',
      outcome: 'approved',
      why: `risk class ${riskClass} is low, the action is reversible and confidence ${confidence} ≥ ${threshold}`,
    };
  }

  if (request.kind === 'disambiguation') {
    const threshold = routing.disambiguateBelowConfidence;
    if (confidence === undefined) return { route: 'review', why: 'the agent gave no confidence' };
    if (confidence < threshold) return { route: 'review', why: `confidence ${confidence} is below ${threshold}` };
    if (sampled) return { route: 'review', why: `picked for the ${percent(routing.sampleRate)} audit sample` };
    const [option] = request.options as [ChoiceOption, ...ChoiceOption[]];
    return { route: 'auto', policy: 'auto-answer', outcome: 'answered', option, why: `confidence ${confidence} ≥ ${threshold}: the agent's first option stands` };
  }

  return { route: 'review', why: `${request.kind} requests always go to a person` };
}
