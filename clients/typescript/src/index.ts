/** hitl client: ask a person before an AI agent acts, and get a Decision back. */
export { Hitl, ReviewHandle, ReviewFailedError, ReviewWaitAbortedError, requestIdOf, type ExecutionStatus, type WaitOptions } from './client.ts';
export { HitlConfigError, resolveConfig, type HitlOptions } from './config.ts';
export { gate, refusalText, type GateRule, type ToolArgs, type ToolCallOptions } from './gate.ts';
export * from './contract.ts';
export { verifyWebhook, WebhookDecision, WebhookVerificationError, type VerifyWebhookOptions } from './webhooks.ts';
