/**
 * Local-only targets for the event bus: forward matching events to an HTTP URL (POST, the event as JSON, like
 * an EventBridge API destination) or append them to a JSON Lines file. By default they take every
 * `hitl.decision` event on the stack's decision bus, so an agent being developed locally can be pushed the
 * Decisions without deploying anything. Deliveries are journalled and retried like those to functions.
 */
import { appendFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { FILE_MODE } from '../json-file.ts';
import type { EventRuleResource, EventTarget } from '../resources.ts';

export type LocalForward = { kind: 'http'; url: string } | { kind: 'file'; path: string };

export interface ForwardOptions {
  /** The bus the rules are on (the stack's decision bus). */
  bus: string;
  /** @default every `hitl.decision` event: `{"source":["hitl"],"detail-type":["hitl.decision"]}` */
  pattern?: unknown;
}

export const DECISION_EVENTS_PATTERN = { source: ['hitl'], 'detail-type': ['hitl.decision'] };

/** How long one HTTP forward may take before it counts as failed (and is retried). */
export const FORWARD_TIMEOUT_MS = 10_000;

export class ForwardError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForwardError';
  }
}

/** `http(s)://…` forwards by POST; anything else is a file path (relative to the working directory). */
export function parseForward(spec: string): LocalForward {
  if (/^https?:\/\//i.test(spec)) {
    try {
      return { kind: 'http', url: new URL(spec).href };
    } catch {
      throw new ForwardError(`"${spec}" is not a URL`);
    }
  }
  if (spec.trim() === '') throw new ForwardError('name a URL or a file to forward events to');
  return { kind: 'file', path: resolve(spec) };
}

/** One rule per forward, named `local-forward-<n>` (the journal knows deliveries by rule name). */
export function forwardRules(forwards: readonly LocalForward[], options: ForwardOptions): EventRuleResource[] {
  return forwards.map((forward, i) => {
    const name = `local-forward-${i + 1}`;
    const target: EventTarget = { id: 'Forward', arn: forward.kind === 'http' ? forward.url : `file://${forward.path}`, forward };
    return { logicalId: name, name, busName: options.bus, pattern: options.pattern ?? DECISION_EVENTS_PATTERN, enabled: true, targets: [target] };
  });
}

/** Deliver one event (as the target's input shapes it) to a forward; throws so the bus retries. */
export async function sendForward(forward: LocalForward, input: unknown): Promise<void> {
  const body = JSON.stringify(input);
  if (forward.kind === 'file') {
    appendFileSync(forward.path, `${body}\n`, { mode: FILE_MODE });
    return;
  }
  let res: Response;
  try {
    res = await fetch(forward.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, redirect: 'manual', signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) });
  } catch (err) {
    throw new ForwardError(`POST ${forward.url} failed: ${(err as Error).message}`);
  }
  await res.body?.cancel();
  if (res.status < 200 || res.status >= 300) throw new ForwardError(`POST ${forward.url} answered ${res.status}`);
}
