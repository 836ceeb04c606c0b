/**
 * The constructs for stacks of your own: `HitlService` (everything a hitl deployment runs) and `HumanReview`
 * (a step of your state machine that asks a person and waits for the Decision), with `HitlStack`, the stack
 * `cdk deploy` builds from cdk.json.
 */
export { HitlService, type HitlServiceProps } from './constructs/hitl-service.ts';
export { HumanReview, type HumanReviewProps } from './constructs/human-review.ts';
export { HitlStack, type HitlStackProps } from './hitl-stack.ts';
