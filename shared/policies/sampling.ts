/** Deterministic samples: a request lands on the same side of a sample every time it is routed or replayed. */
import { createHash } from 'node:crypto';

/** A stable number in [0, 1) per request, so a replayed execution (or `hitl whatif`) lands on the same side. */
export function sampleFraction(requestId: string): number {
  const digest = createHash('sha256').update(`sample\n${requestId}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

export function isSampled(requestId: string, rate: number): boolean {
  return rate > 0 && sampleFraction(requestId) < rate;
}

export function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}
