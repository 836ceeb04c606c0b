/** DynamoDB on dynalite, persisted under the state directory, with the template's tables created on start. */
import { createRequire } from 'node:module';
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './aws-ids.ts';
import { ItemLocks, TransactionJournal, Transactions, WRITE_OPERATIONS, type InnerReply } from './dynamodb-transactions.ts';
import { readBody, sendJson } from './http.ts';
import { ensurePrivateDir } from './json-file.ts';
import type { TableResource } from './resources.ts';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: { path?: string; createTableMs?: number; deleteTableMs?: number; updateTableMs?: number }) => Server;

/**
 * dynalite throws from inside its request handling on input it cannot walk (an item nested a thousand levels
 * deep overflows its recursive validation), which would take the whole process down. Such a request is
 * answered with an error instead: the nesting one DynamoDB itself gives for items nested too deeply.
 */
function answerInsteadOfThrowing(server: Server): Server {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const emit = req.emit;
    req.emit = function (this: IncomingMessage, ...args: Parameters<IncomingMessage['emit']>) {
      try {
        return emit.apply(this, args);
      } catch (err) {
        req.removeAllListeners();
        if (res.headersSent) res.destroy();
        else if (err instanceof RangeError) sendJson(res, 400, { __type: 'com.amazon.coral.validate#ValidationException', message: 'Nesting Levels have exceeded supported limits' }, 'application/x-amz-json-1.0');
        else sendJson(res, 500, { __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: (err as Error).message }, 'application/x-amz-json-1.0');
        return true;
      }
    } as IncomingMessage['emit'];
    for (const handler of handlers) handler(req, res);
  });
  return server;
}

/**
 * dynalite behind a front server that adds TransactWriteItems (see dynamodb-transactions.ts) and runs
 * each write under its items' locks. A journal beside the data undoes a transaction that a kill -9 cut short.
 */
export function createDynamoServer(path: string | undefined, options: { fsync?: boolean } = {}): Server {
  if (path) ensurePrivateDir(path);
  const inner = answerInsteadOfThrowing(dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
  const listener = inner.listeners('request')[0] as RequestListener;
  inner.removeAllListeners('request');
  const journal = new TransactionJournal(path ? `${path}.transactions` : '/dev/null', options.fsync ?? false);
  const transactions = new Transactions(listener, journal);
  const locks = new ItemLocks();
  // dynalite closes its store only through its own server's close, which needs a listening server.
  const innerListening = new Promise<void>((resolve) => inner.listen(0, '127.0.0.1', () => resolve()));
  const ready = innerListening.then(() => (path ? transactions.recover() : 0));

  const reply = (res: ServerResponse, out: InnerReply) => {
    const text = out.raw?.text ?? JSON.stringify(out.body);
    const headers = out.raw?.headers ?? { 'content-type': 'application/x-amz-json-1.0' };
    res.writeHead(out.status, { ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const front = createServer((req, res) => {
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    void ready
      .then(async () => {
        if (!WRITE_OPERATIONS.has(operation)) return listener(req, res);
        const text = (await readBody(req)).toString('utf8');
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(text || '{}') as Record<string, unknown>;
        } catch {
          return reply(res, await transactions.call(operation, text));
        }
        const items = await transactions.itemsOf(operation, input);
        const out = await locks.run(items, () => (operation === 'TransactWriteItems' ? transactions.transactWrite(input) : transactions.call(operation, input)));
        reply(res, operation === 'TransactWriteItems' ? { status: out.status, body: out.body } : out);
      })
      .catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: String(err) }));
      });
  });
  const closeFront = front.close.bind(front);
  front.close = ((done?: (err?: Error) => void) => {
    closeFront((err) => {
      void ready.finally(() => inner.close(() => done?.(err)));
    });
    return front;
  }) as Server['close'];
  return front;
}

function keyShape(t: { KeySchema?: { AttributeName?: string; KeyType?: string }[]; GlobalSecondaryIndexes?: { IndexName?: string }[] }): string {
  const keys = (t.KeySchema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const indexes = (t.GlobalSecondaryIndexes ?? []).map((i) => i.IndexName).sort().join(',');
  return `${keys}|${indexes}`;
}

/**
 * Create each table that does not exist yet. A table that exists keeps its rows; if its keys or indexes
 * differ from the template's, say so (the fix is deleting the table's data: see docs/local-stack.md).
 */
export async function ensureTables(endpoint: string, tables: readonly TableResource[], warn: (line: string) => void): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    for (const table of tables) {
      try {
        const { Table } = await client.send(new DescribeTableCommand({ TableName: table.name }));
        if (Table && keyShape(Table) !== keyShape(table.create)) {
          warn(`table ${table.name} exists with other keys or indexes than the template defines; delete .hitl/dynamodb to recreate it`);
        }
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
        await client.send(new CreateTableCommand(table.create));
      }
    }
  } finally {
    client.destroy();
  }
}
