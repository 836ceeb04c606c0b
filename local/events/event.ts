/** The EventBridge event envelope, as rules match it and targets receive it. */
import { createHash, randomUUID } from 'node:crypto';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../aws-ids.ts';

export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  /** ISO 8601 to the second, as EventBridge writes it. */
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export function eventTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * An event id in EventBridge's UUID shape. With a `key`, the same key always gives the same id: an event
 * announced again after a restart is recognised as the one already accepted.
 */
export function eventId(key?: string): string {
  if (key === undefined) return randomUUID();
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function busEvent(fields: { id?: string; source: string; detailType: string; detail: unknown; resources?: string[]; at?: number }): BusEvent {
  return {
    version: '0',
    id: fields.id ?? eventId(),
    'detail-type': fields.detailType,
    source: fields.source,
    account: LOCAL_ACCOUNT,
    time: eventTime(fields.at ?? Date.now()),
    region: LOCAL_REGION,
    resources: fields.resources ?? [],
    detail: fields.detail,
  };
}
