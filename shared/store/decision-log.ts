/**
 * The decision log: append-only, one item per event. Final decisions also carry the sparse index keys
 * (agent, actionType, day), so analysts query by agent, action type or time window without a Scan.
 */
import { randomBytes } from 'node:crypto';
import { PutCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { DECISION_LOG, type IndexDef } from '../tables.ts';
import { isConditionFailure } from './requests.ts';
import type { LogEvent, LogEventType, StoredRequest } from './model.ts';
import { queryItems } from './query.ts';
import type { TxItem } from './transact.ts';

export type NewLogEvent = Omit<LogEvent, 'eventKey'>;

/** Events that end a request; only they are indexed for analysts. */
export const FINAL_EVENTS: readonly LogEventType[] = ['decided', 'expired', 'corrected', 'cancelled'];

export interface TimeWindow {
  /** ISO timestamps, both inclusive. */
  from: string;
  to: string;
}

let counter = 0;
/** Orders events written by one process within a millisecond; the random part keeps writers apart. */
function nextSeq(): string {
  counter = (counter + 1) % 1_000_000;
  return `${String(counter).padStart(6, '0')}${randomBytes(3).toString('hex')}`;
}

/** The index keys a final event carries. */
export function decisionIndexKeys(row: Pick<StoredRequest, 'agent' | 'actionType'>, at: string): Pick<LogEvent, 'agent' | 'actionType' | 'day'> {
  return { agent: row.agent, actionType: row.actionType, day: at.slice(0, 10) };
}

/** UTC days (YYYY-MM-DD) a window touches, oldest first. */
export function daysOf(window: TimeWindow): string[] {
  const days: string[] = [];
  const end = Date.parse(`${window.to.slice(0, 10)}T00:00:00Z`);
  for (let t = Date.parse(`${window.from.slice(0, 10)}T00:00:00Z`); t <= end; t += 86_400_000) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

export class DecisionLog {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  private put(item: LogEvent): TxItem {
    return { Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(eventKey)' } };
  }

  /** Any event, for a transaction (unique key: written once). */
  eventItem(event: NewLogEvent): TxItem {
    return this.put({ ...event, eventKey: `${event.at}#${nextSeq()}` });
  }

  /** The `created` event, keyed by the creation time: one per request row. */
  createdItem(event: NewLogEvent): TxItem {
    return this.put({ ...event, eventKey: `${event.at}#created` });
  }

  /** The final event, keyed by the decision time (see appendFinal). */
  finalItem(event: NewLogEvent & { decision: NonNullable<LogEvent['decision']> }): TxItem {
    return this.put({ ...event, eventKey: `${event.decision.decidedAt}#final` });
  }

  /** Append one event; never overwrites (the key is unique and the write is conditional). */
  async append(event: NewLogEvent): Promise<LogEvent> {
    for (;;) {
      const item: LogEvent = { ...event, eventKey: `${event.at}#${nextSeq()}` };
      try {
        await this.doc.send(
          new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(eventKey)' }),
        );
        return item;
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
      }
    }
  }

  /**
   * Append a request's final event (decided, expired, corrected) under a key derived from the decision
   * time, so a retry after a partial failure writes it at most once. False when it was already there.
   */
  async appendFinal(event: NewLogEvent & { decision: NonNullable<LogEvent['decision']> }): Promise<boolean> {
    const item: LogEvent = { ...event, eventKey: `${event.decision.decidedAt}#final` };
    try {
      await this.doc.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(eventKey)' }));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Every event of one request, in order. */
  async forRequest(requestId: string): Promise<LogEvent[]> {
    return this.query({
      KeyConditionExpression: '#pk = :id',
      ExpressionAttributeNames: { '#pk': DECISION_LOG.partitionKey },
      ExpressionAttributeValues: { ':id': requestId },
      ConsistentRead: true,
    });
  }

  async decisionsByAgent(agent: string, window: TimeWindow): Promise<LogEvent[]> {
    return this.byIndex(DECISION_LOG.byAgentIndex, agent, window);
  }

  /** `actionType` as stored: `approval#refund`, `verification#email`, or a kind alone. */
  async decisionsByActionType(actionType: string, window: TimeWindow): Promise<LogEvent[]> {
    return this.byIndex(DECISION_LOG.byActionIndex, actionType, window);
  }

  /** Every final decision in a time window: one Query per UTC day. */
  async decisionsInWindow(window: TimeWindow): Promise<LogEvent[]> {
    const perDay = await Promise.all(daysOf(window).map((day) => this.byIndex(DECISION_LOG.byDayIndex, day, window)));
    return perDay.flat();
  }

  private byIndex(index: IndexDef, key: string, window: TimeWindow): Promise<LogEvent[]> {
    return this.query({
      IndexName: index.name,
      KeyConditionExpression: '#pk = :key AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
      ExpressionAttributeValues: { ':key': key, ':from': window.from, ':to': window.to },
    });
  }

  private query(input: Omit<QueryCommandInput, 'TableName'>): Promise<LogEvent[]> {
    return queryItems<LogEvent>(this.doc, { ...input, TableName: this.tableName });
  }
}
