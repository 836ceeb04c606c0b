/**
 * DynamoDB transactions for writes that must land together: a change of a request's state and the log
 * event that records it. Either both are written or neither is, so a crash between them cannot leave a
 * final row without its final event (or an event for a change that never happened).
 */
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';

export type TxItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** DynamoDB cancels a transaction that touches an item another transaction is writing; such a loss is retried. */
const CONFLICT_RETRIES = 6;

interface CancellationReason {
  Code?: string;
}

function reasonsOf(err: unknown): CancellationReason[] | undefined {
  const e = err as { name?: string; CancellationReasons?: CancellationReason[] } | null;
  return e?.name === 'TransactionCanceledException' ? (e.CancellationReasons ?? []) : undefined;
}

/**
 * Write all items or none. Returns `undefined` on success, or the index of the first item whose condition
 * did not hold (nothing was written then).
 */
export async function transact(doc: DynamoDBDocumentClient, items: TxItem[]): Promise<number | undefined> {
  for (let attempt = 0; ; attempt++) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
      return undefined;
    } catch (err) {
      const reasons = reasonsOf(err);
      if (!reasons) throw err;
      const failed = reasons.findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (failed >= 0) return failed;
      const conflict = reasons.some((r) => r.Code === 'TransactionConflict');
      if (!conflict || attempt >= CONFLICT_RETRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * 2 ** attempt));
    }
  }
}
