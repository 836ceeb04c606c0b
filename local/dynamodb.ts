/** DynamoDB on dynalite, persisted under the state directory, with the template's tables created on start. */
import { createRequire } from 'node:module';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './aws-ids.ts';
import { sendJson } from './http.ts';
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

export function createDynamoServer(path: string | undefined): Server {
  if (path) ensurePrivateDir(path);
  return answerInsteadOfThrowing(dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
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
