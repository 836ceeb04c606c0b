/**
 * TransactWriteItems for dynalite, which has none. The front server runs every write under a lock on
 * each item it writes, so a transaction (holding the locks of all its items) reads their current images,
 * journals them, then applies its writes one by one with their own conditions; a failed condition
 * restores the images written so far. A kill -9 part-way through leaves the journal entry without its
 * `done` line, and the next start restores those images before it serves anything: a transaction is
 * applied whole or not at all, as on DynamoDB.
 *
 * Reads are not isolated from a transaction in flight (DynamoDB's are); nothing here reads two items of
 * one transaction and compares them.
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, fsyncSync, openSync, closeSync, readFileSync, renameSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

type AttributeMap = Record<string, unknown>;

export interface InnerReply {
  status: number;
  body: Record<string, unknown>;
  /** The reply as dynalite wrote it, with its headers (x-amz-crc32 covers these exact bytes). */
  raw?: { text: string; headers: Record<string, string> };
}

/** Call dynalite's request handler in-process, as an HTTP client would. */
export function callDynalite(listener: RequestListener, operation: string, input: unknown): Promise<InnerReply> {
  return new Promise((resolve) => {
    const req = Readable.from([Buffer.from(typeof input === 'string' ? input : JSON.stringify(input))]) as unknown as IncomingMessage;
    Object.assign(req, {
      method: 'POST',
      url: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': `DynamoDB_20120810.${operation}`,
        'x-amz-date': '20200101T000000Z',
        authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=0',
      },
    });
    let status = 200;
    const headers: Record<string, string> = {};
    const res = {
      setHeader(name: string, value: unknown) {
        headers[name.toLowerCase()] = String(value);
      },
      getHeader(name: string) {
        return headers[name.toLowerCase()];
      },
      writeHead(code: number, more: Record<string, unknown> = {}) {
        status = code;
        for (const [name, value] of Object.entries(more)) headers[name.toLowerCase()] = String(value);
        return this;
      },
      headersSent: false,
      destroy() {
        resolve({ status: 500, body: { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'request destroyed' } });
      },
      set statusCode(code: number) {
        status = code;
      },
      get statusCode() {
        return status;
      },
      end(text?: string) {
        let body: Record<string, unknown> = {};
        try {
          body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
        } catch {
          // Not JSON (e.g. dynalite's UnknownOperationException page): passed on as it is.
        }
        resolve({ status, body, raw: { text: text ?? '', headers } });
      },
    } as unknown as ServerResponse;
    listener(req, res);
  });
}

/**
 * One writer per item at a time: a transaction needs no concurrent writer of its items between reading
 * them and writing them. Locks are taken in sorted order, so two writers of the same items cannot deadlock.
 */
export class ItemLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    const releases: (() => void)[] = [];
    for (const key of [...new Set(keys)].sort()) {
      const previous = this.tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => (release = r));
      this.tails.set(key, mine);
      releases.push(() => {
        if (this.tails.get(key) === mine) this.tails.delete(key);
        release();
      });
      await previous;
    }
    try {
      return await work();
    } finally {
      for (const release of releases) release();
    }
  }
}

interface TransactItem {
  Put?: { TableName: string; Item: AttributeMap; ConditionExpression?: string; ExpressionAttributeNames?: AttributeMap; ExpressionAttributeValues?: AttributeMap; ReturnValuesOnConditionCheckFailure?: string };
  Update?: { TableName: string; Key: AttributeMap; UpdateExpression: string; ConditionExpression?: string; ExpressionAttributeNames?: AttributeMap; ExpressionAttributeValues?: AttributeMap; ReturnValuesOnConditionCheckFailure?: string };
  Delete?: { TableName: string; Key: AttributeMap; ConditionExpression?: string; ExpressionAttributeNames?: AttributeMap; ExpressionAttributeValues?: AttributeMap; ReturnValuesOnConditionCheckFailure?: string };
  ConditionCheck?: { TableName: string; Key: AttributeMap; ConditionExpression: string; ExpressionAttributeNames?: AttributeMap; ExpressionAttributeValues?: AttributeMap; ReturnValuesOnConditionCheckFailure?: string };
}

interface Image {
  TableName: string;
  Key: AttributeMap;
  /** The item before the transaction; null when there was none. */
  Item: AttributeMap | null;
}

const SERVICE = 'com.amazonaws.dynamodb.v20120810';
const MAX_ITEMS = 100;

function error(type: string, message: string, extra: Record<string, unknown> = {}): InnerReply {
  return { status: 400, body: { __type: `${SERVICE}#${type}`, message, ...extra } };
}

function isConditionFailure(reply: InnerReply): boolean {
  return String(reply.body.__type ?? '').endsWith('#ConditionalCheckFailedException');
}

export class TransactionJournal {
  constructor(
    readonly path: string,
    private readonly fsync: boolean,
  ) {}

  append(entry: unknown): void {
    appendFileSync(this.path, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
    if (this.fsync) {
      const fd = openSync(this.path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
  }

  /** Transactions that began and never finished, oldest first. A torn last line is one that never began. */
  unfinished(): Image[][] {
    if (!existsSync(this.path)) return [];
    const begun = new Map<string, Image[]>();
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      let entry: { tx?: string; images?: Image[]; done?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      if (entry.tx && entry.images) begun.set(entry.tx, entry.images);
      if (entry.done) begun.delete(entry.done);
    }
    return [...begun.values()];
  }

  /** Start an empty journal, keeping the old one aside until the next reset. */
  reset(): void {
    if (existsSync(this.path)) renameSync(this.path, `${this.path}.old`);
  }
}

export class Transactions {
  private readonly keySchemas = new Map<string, string[]>();

  constructor(
    private readonly inner: RequestListener,
    private readonly journal: TransactionJournal,
  ) {}

  call(operation: string, input: unknown): Promise<InnerReply> {
    return callDynalite(this.inner, operation, input);
  }

  /** The items a write touches, as lock names; one name for input too malformed to read (dynalite refuses it). */
  async itemsOf(operation: string, input: Record<string, unknown>): Promise<string[]> {
    const id = (table: unknown, key: unknown) => `${String(table)}\n${JSON.stringify(key)}`;
    try {
      if (operation === 'PutItem') return [id(input.TableName, await this.keyOf(String(input.TableName), input.Item as AttributeMap))];
      if (operation === 'UpdateItem' || operation === 'DeleteItem') return [id(input.TableName, input.Key)];
      if (operation === 'BatchWriteItem') {
        const ids: string[] = [];
        for (const [table, writes] of Object.entries(input.RequestItems as Record<string, { PutRequest?: { Item: AttributeMap }; DeleteRequest?: { Key: AttributeMap } }[]>)) {
          for (const w of writes) ids.push(id(table, w.PutRequest ? await this.keyOf(table, w.PutRequest.Item) : w.DeleteRequest?.Key));
        }
        return ids;
      }
      if (operation === 'TransactWriteItems') {
        const ids: string[] = [];
        for (const item of (input.TransactItems as TransactItem[]) ?? []) {
          const op = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
          if (op) ids.push(id(op.TableName, item.Put ? await this.keyOf(op.TableName, item.Put.Item) : (op as { Key: AttributeMap }).Key));
        }
        return ids;
      }
    } catch {
      // Falls through: the write is malformed or names no table.
    }
    return ['\n malformed'];
  }

  private async keyOf(tableName: string, item: AttributeMap): Promise<AttributeMap> {
    let names = this.keySchemas.get(tableName);
    if (!names) {
      const out = await this.call('DescribeTable', { TableName: tableName });
      const schema = (out.body.Table as { KeySchema?: { AttributeName: string }[] } | undefined)?.KeySchema;
      if (!schema) throw Object.assign(new Error(`no table ${tableName}`), { reply: out });
      names = schema.map((k) => k.AttributeName);
      this.keySchemas.set(tableName, names);
    }
    return Object.fromEntries(names.map((n) => [n, item[n]]));
  }

  private async restore(images: Image[]): Promise<void> {
    for (const image of images) {
      if (image.Item) await this.call('PutItem', { TableName: image.TableName, Item: image.Item });
      else await this.call('DeleteItem', { TableName: image.TableName, Key: image.Key });
    }
  }

  /** Undo what a crash left half-applied; run before serving. */
  async recover(): Promise<number> {
    const unfinished = this.journal.unfinished();
    for (const images of unfinished) await this.restore(images);
    this.journal.reset();
    return unfinished.length;
  }

  async transactWrite(input: { TransactItems?: TransactItem[] }): Promise<InnerReply> {
    const items = input.TransactItems ?? [];
    if (items.length === 0 || items.length > MAX_ITEMS) {
      return error('ValidationException', `TransactItems must have between 1 and ${MAX_ITEMS} items`);
    }
    const targets: Image[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      const op = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck;
      if (!op) return error('ValidationException', 'each TransactItem needs one of Put, Update, Delete or ConditionCheck');
      let key: AttributeMap;
      try {
        key = item.Put ? await this.keyOf(op.TableName, item.Put.Item) : (op as { Key: AttributeMap }).Key;
      } catch (err) {
        return (err as { reply?: InnerReply }).reply ?? error('ResourceNotFoundException', 'Requested resource not found');
      }
      if (!key || Object.values(key).some((v) => v === undefined)) return error('ValidationException', 'The provided key element does not match the schema');
      const id = `${op.TableName}\n${JSON.stringify(key)}`;
      if (seen.has(id)) return error('ValidationException', 'Transaction request cannot include multiple operations on one item');
      seen.add(id);
      const current = await this.call('GetItem', { TableName: op.TableName, Key: key, ConsistentRead: true });
      if (current.status !== 200) return current;
      targets.push({ TableName: op.TableName, Key: key, Item: (current.body.Item as AttributeMap | undefined) ?? null });
    }

    const tx = randomUUID();
    this.journal.append({ tx, images: targets });
    const applied: Image[] = [];
    let failure: InnerReply | undefined;
    for (const [i, item] of items.entries()) {
      const reply = await this.apply(item, targets[i]!);
      if (reply.status === 200) {
        applied.push(targets[i]!);
        continue;
      }
      failure = isConditionFailure(reply)
        ? error('TransactionCanceledException', `Transaction cancelled, please refer cancellation reasons for specific reasons [${items.map((_, j) => (j === i ? 'ConditionalCheckFailed' : 'None')).join(', ')}]`, {
            CancellationReasons: items.map((other, j) => {
              if (j !== i) return { Code: 'None' };
              const op = other.Put ?? other.Update ?? other.Delete ?? other.ConditionCheck;
              const old = targets[j]!.Item;
              return { Code: 'ConditionalCheckFailed', Message: 'The conditional request failed', ...(op?.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && old ? { Item: old } : {}) };
            }),
          })
        : reply;
      break;
    }
    if (failure) await this.restore(applied.reverse());
    this.journal.append({ done: tx });
    return failure ?? { status: 200, body: {} };
  }

  private async apply(item: TransactItem, target: Image): Promise<InnerReply> {
    const strip = <T extends { ReturnValuesOnConditionCheckFailure?: string }>(op: T) => {
      const { ReturnValuesOnConditionCheckFailure: _r, ...rest } = op;
      return rest;
    };
    if (item.Put) return this.call('PutItem', strip(item.Put));
    if (item.Update) return this.call('UpdateItem', strip(item.Update));
    if (item.Delete) return this.call('DeleteItem', strip(item.Delete));
    const check = item.ConditionCheck!;
    // A conditional update that changes nothing evaluates the condition; one that created the item is undone.
    const reply = await this.call('UpdateItem', { ...strip(check), ReturnValues: 'NONE' });
    if (reply.status === 200 && !target.Item) await this.call('DeleteItem', { TableName: target.TableName, Key: target.Key });
    return reply;
  }
}

export const WRITE_OPERATIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
