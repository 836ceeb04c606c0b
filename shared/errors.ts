/**
 * Domain errors. Their `name`s are part of the contract: the state machine's Catch clauses
 * and the HTTP layer match on them, so renaming one is a breaking change.
 */
export class HitlError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HitlError';
  }
}

/** The state machine input (or an HTTP body) failed validation. `issues` carries zod paths. */
export class InvalidRequestError extends HitlError {
  readonly issues: readonly { path: string; message: string }[];
  constructor(message: string, issues: readonly { path: string; message: string }[] = [], options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InvalidRequestError';
    this.issues = issues;
  }
}

/**
 * @deprecated No longer thrown: a retry with the same key and content waits for the one Decision, and other
 * content raises IdempotencyConflictError. Kept so code that matches the name still compiles.
 */
export class DuplicateRequestError extends HitlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DuplicateRequestError';
  }
}

/** The same agent and idempotency key were used before for a request with other content. Nothing was stored. */
export class IdempotencyConflictError extends HitlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IdempotencyConflictError';
  }
}

/**
 * A task token came back with a payload that is not the request's stored Decision, or for a request that
 * is not final: someone who can read the execution history called SendTaskSuccess. The execution fails.
 */
export class ForgedDecisionError extends HitlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForgedDecisionError';
  }
}

/** Deployment configuration is invalid; thrown at synth and at cold start. */
export class ConfigError extends HitlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

/** A review link's signature, approver, key id or expiry did not verify. */
export class LinkError extends HitlError {
  readonly reason: 'malformed' | 'bad-signature' | 'unknown-key' | 'expired' | 'not-a-reviewer';
  constructor(reason: LinkError['reason'], message: string) {
    super(message);
    this.name = 'LinkError';
    this.reason = reason;
  }
}

/** The request is no longer open for this action (already decided, expired, escalated past this tier). */
export class NotPendingError extends HitlError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'NotPendingError';
  }
}

/** A request id that no table row has. */
export class RequestNotFoundError extends HitlError {
  constructor(requestId: string) {
    super(`No review request with id ${requestId}`);
    this.name = 'RequestNotFoundError';
  }
}

/** A decision is recorded but its execution could not be resumed yet; thrown so the caller's retry resumes it. */
export class ResumeFailedError extends HitlError {
  constructor(requestId: string) {
    super(`Request ${requestId} is decided but its execution could not be resumed yet`);
    this.name = 'ResumeFailedError';
  }
}
