/**
 * DynamoDB on-demand request units, computed from item sizes the way DynamoDB meters them:
 * a write costs ceil(size / 1 KB) WRU of the larger of the item before and after it; a read costs
 * ceil(size / 4 KB) RRU, half that when eventually consistent; a global secondary index whose entry is
 * added, changed or removed costs its own writes. The local engine does not meter index writes, so they are
 * computed here from the before/after images the SDK recorder read around each write.
 */
import type { IndexDef } from '#shared/tables.ts';
import type { Item, RecordedCall } from './sdk-calls.ts';

const KB = 1024;

function utf8(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Roughly 1 byte per two significant digits, plus 1 (DynamoDB's documented approximation). */
function numberSize(n: number): number {
  const digits = Math.abs(n).toExponential().split('e')[0]!.replace('.', '').replace(/0+$/, '') || '0';
  return Math.ceil(digits.length / 2) + 1;
}

/** Size in bytes of one attribute value as DynamoDB counts it (document-client form). */
export function valueSize(value: unknown): number {
  if (value === null || value === undefined || typeof value === 'boolean') return 1;
  if (typeof value === 'string') return utf8(value);
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(Number(value));
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...value].reduce((sum: number, v) => sum + valueSize(v), 0);
  // Lists and maps: 3 bytes, plus 1 byte per element (and a map element's name).
  if (Array.isArray(value)) return 3 + value.reduce((sum: number, v) => sum + 1 + valueSize(v), 0);
  if (typeof value === 'object') return 3 + Object.entries(value).reduce((sum, [k, v]) => sum + 1 + utf8(k) + valueSize(v), 0);
  return 0;
}

/** Item size: every attribute's name and value. */
export function itemSize(item: Item | undefined): number {
  if (!item) return 0;
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / KB));
export const readUnits = (bytes: number, consistent: boolean): number => Math.max(1, Math.ceil(bytes / (4 * KB))) * (consistent ? 1 : 0.5);

function inIndex(index: IndexDef, item: Item | undefined): boolean {
  return item !== undefined && item[index.partitionKey] !== undefined && item[index.sortKey] !== undefined;
}

/** WRU to keep one GSI (projection ALL) in step with a write that turned `before` into `after`. */
export function indexWriteUnits(index: IndexDef, before: Item | undefined, after: Item | undefined): number {
  const was = inIndex(index, before);
  const is = inIndex(index, after);
  if (!was && !is) return 0;
  if (!was) return writeUnits(itemSize(after));
  if (!is) return writeUnits(itemSize(before));
  const keyChanged = before![index.partitionKey] !== after![index.partitionKey] || before![index.sortKey] !== after![index.sortKey];
  if (keyChanged) return writeUnits(itemSize(before)) + writeUnits(itemSize(after));
  return JSON.stringify(before) === JSON.stringify(after) ? 0 : writeUnits(itemSize(after));
}

export interface CapacityUse {
  /** Base-table write request units. */
  wru: number;
  /** Index write request units. */
  indexWru: number;
  rru: number;
}

/**
 * Request units of recorded DynamoDB calls. `indexesOf` names each table's GSIs. Writes need images
 * (`before`/`after`); reads are sized from what they returned.
 */
export function capacityOf(calls: readonly RecordedCall[], indexesOf: (tableName: string) => readonly IndexDef[]): CapacityUse {
  const use: CapacityUse = { wru: 0, indexWru: 0, rru: 0 };
  for (const call of calls) {
    if (call.service !== 'DynamoDB') continue;
    const table = String(call.input.TableName ?? '');
    switch (call.operation) {
      case 'PutItem':
      case 'UpdateItem':
      case 'DeleteItem': {
        // A Put sizes the item it sends even when its condition fails; an Update or Delete the item it touched.
        const sent = call.operation === 'PutItem' ? itemSize(call.input.Item as Item) : 0;
        use.wru += writeUnits(Math.max(sent, itemSize(call.before), itemSize(call.after)));
        for (const index of indexesOf(table)) use.indexWru += indexWriteUnits(index, call.before, call.after);
        break;
      }
      case 'GetItem':
        use.rru += readUnits(itemSize(call.output?.Item as Item | undefined), call.input.ConsistentRead === true);
        break;
      case 'Query':
      case 'Scan': {
        const items = (call.output?.Items as Item[] | undefined) ?? [];
        const consistent = call.input.ConsistentRead === true && call.input.IndexName === undefined;
        use.rru += readUnits(items.reduce((sum, i) => sum + itemSize(i), 0), consistent);
        break;
      }
      case 'TransactWriteItems':
        // Transactional writes cost two write units per KB of each item (a cancelled transaction still
        // costs them); the index entries they change are counted as ordinary index writes.
        for (const item of call.items ?? []) {
          const itemTable = String(item.input.TableName ?? '');
          const sent = item.operation === 'PutItem' ? itemSize(item.input.Item as Item) : 0;
          use.wru += 2 * writeUnits(Math.max(sent, itemSize(item.before), itemSize(item.after)));
          if (call.error) continue;
          for (const index of indexesOf(itemTable)) use.indexWru += indexWriteUnits(index, item.before, item.after);
        }
        break;
      default:
        throw new Error(`No capacity rule for DynamoDB ${call.operation}; add one to local/bench/capacity.ts`);
    }
  }
  return use;
}
