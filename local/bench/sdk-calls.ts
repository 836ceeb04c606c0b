/**
 * Counts the AWS SDK calls the handlers make. The local stack runs the handlers in this process, so their
 * module-scope clients share the SDK's base Client class with ours: wrapping its `send` sees every command
 * without touching the handlers. Clients the benchmark itself uses are ignored.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export type Item = Record<string, unknown>;

export interface RecordedCall {
  /** `DynamoDB`, `SFN`, `SES`, `Scheduler`, `SecretsManager`. */
  service: string;
  /** The API operation, e.g. `PutItem` (DocumentClient commands are named by the operation they send). */
  operation: string;
  input: Item;
  output?: Item;
  /** The error's name when the call failed (a failed conditional write still costs capacity). */
  error?: string;
  /** DynamoDB writes, when images are on: the item before and after the write. */
  before?: Item;
  after?: Item;
  /** TransactWriteItems, when images are on: each item written, as its own Put/Update/Delete call. */
  items?: RecordedCall[];
}

/** How to read a written item's before and after images (DynamoDB writes), with a client this recorder ignores. */
export interface ItemImages {
  keyOf(tableName: string, operation: string, input: Item): Item | undefined;
  read(tableName: string, key: Item): Promise<Item | undefined>;
}

type Send = (this: object, command: { input: Item; constructor: { name: string } }, ...rest: unknown[]) => Promise<unknown>;

const DOCUMENT_OPERATIONS: Record<string, string> = {
  Put: 'PutItem',
  Get: 'GetItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem']);

function serviceOf(client: object): string {
  const name = client.constructor.name.replace(/Client$/, '');
  return name === 'DynamoDBDocument' ? 'DynamoDB' : name;
}

function operationOf(client: object, command: { constructor: { name: string } }): string {
  const name = command.constructor.name.replace(/Command$/, '');
  return client instanceof DynamoDBDocumentClient ? (DOCUMENT_OPERATIONS[name] ?? name) : name;
}

export class SdkCallRecorder {
  readonly calls: RecordedCall[] = [];
  private readonly ignored = new WeakSet<object>();
  private images: ItemImages | undefined;
  private restore: (() => void) | undefined;

  /** Wrap the SDK's base `send`. Throws if the clients the handlers use do not share it. */
  install(): this {
    if (this.restore) return this;
    const base = Object.getPrototypeOf(DynamoDBClient.prototype) as { send: Send };
    for (const client of [SFNClient, SESClient, SchedulerClient, SecretsManagerClient, DynamoDBDocumentClient]) {
      if (Object.getPrototypeOf(client.prototype) !== base) {
        throw new Error(`${client.name} does not extend the same SDK Client class as DynamoDBClient (two copies of @smithy/core?); its calls could not be counted`);
      }
    }
    const original = base.send;
    const ignored = (client: object) => this.ignored.has(client);
    const record = this.record.bind(this);
    base.send = function (this: object, command, ...rest) {
      // Callback-style calls are not used by the handlers; pass them through uncounted.
      if (ignored(this) || typeof rest.at(-1) === 'function') return original.call(this, command, ...rest);
      return record(this, command, () => original.call(this, command, ...rest) as Promise<Item>);
    };
    this.restore = () => {
      base.send = original;
    };
    return this;
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
  }

  /** Calls through these clients are not recorded (the benchmark's own). */
  ignore(...clients: object[]): this {
    for (const c of clients) this.ignored.add(c);
    return this;
  }

  /** Read item images around every DynamoDB write from now on (slow: two extra reads per write). */
  captureImages(images: ItemImages | undefined): void {
    this.images = images;
  }

  reset(): void {
    this.calls.length = 0;
  }

  /** Calls per `service operation`, e.g. `{ 'DynamoDB PutItem': 4 }`. */
  counts(calls: readonly RecordedCall[] = this.calls): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of calls) out[`${c.service} ${c.operation}`] = (out[`${c.service} ${c.operation}`] ?? 0) + 1;
    return out;
  }

  private async record(client: object, command: { input: Item; constructor: { name: string } }, send: () => Promise<Item>): Promise<Item> {
    const call: RecordedCall = { service: serviceOf(client), operation: operationOf(client, command), input: command.input };
    this.calls.push(call);
    const images = call.service === 'DynamoDB' && WRITES.has(call.operation) ? this.images : undefined;
    const table = typeof command.input.TableName === 'string' ? command.input.TableName : undefined;
    const key = images && table ? images.keyOf(table, call.operation, command.input) : undefined;
    if (images && table && key) call.before = await images.read(table, key);
    // A transaction's items, each imaged like a single write.
    const parts: { call: RecordedCall; table: string; key: Item }[] = [];
    if (this.images && call.service === 'DynamoDB' && call.operation === 'TransactWriteItems') {
      for (const entry of (command.input.TransactItems as Record<string, Item>[] | undefined) ?? []) {
        const [kind, input] = Object.entries(entry)[0] ?? [];
        const operation = kind === 'ConditionCheck' ? 'ConditionCheck' : `${kind}Item`;
        const itemTable = typeof input?.TableName === 'string' ? input.TableName : undefined;
        const itemKey = input && itemTable ? this.images.keyOf(itemTable, operation === 'ConditionCheck' ? 'UpdateItem' : operation, input) : undefined;
        const part: RecordedCall = { service: 'DynamoDB', operation, input: input ?? {} };
        if (itemTable && itemKey) {
          part.before = await this.images.read(itemTable, itemKey);
          parts.push({ call: part, table: itemTable, key: itemKey });
        }
        (call.items ??= []).push(part);
      }
    }
    try {
      call.output = await send();
      return call.output;
    } catch (err) {
      call.error = (err as Error).name;
      throw err;
    } finally {
      if (images && table && key) call.after = await images.read(table, key);
      for (const part of parts) part.call.after = await this.images!.read(part.table, part.key);
    }
  }
}
