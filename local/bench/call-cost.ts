/**
 * What one call costs this machine's CPU, client and server together: an SDK call (a DynamoDB GetItem through
 * the document client, as the handlers make it) to a server that answers at once, and the same round trip
 * without the SDK (fetch). Every call the handlers make on the local stack costs at least this much; with
 * the calls per creation and per decision, it bounds the throughput the stack can reach on this machine.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { closeServer } from '../http.ts';
import { runPool } from './stats.ts';

export interface CallCost {
  calls: number;
  concurrency: number;
  /** CPU ms (user + system, this process: client and server) per SDK call. */
  sdkCpuMs: number;
  /** CPU ms per bare HTTP round trip (fetch to the same server). */
  httpCpuMs: number;
}

export interface Ceiling {
  /** Handler AWS calls per operation, plus the caller's own (StartExecution; the reviewer's POST). */
  callsPerOperation: number;
  /** At most this many per second if the cores did nothing but these calls. */
  perSecond: number;
}

async function cpuMsPer(calls: number, concurrency: number, one: () => Promise<unknown>): Promise<number> {
  const before = process.cpuUsage();
  await runPool(
    Array.from({ length: calls }, (_, i) => i),
    concurrency,
    async () => {
      await one();
    },
  );
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / calls;
}

export async function measureCallCost(calls = 3000, concurrency = 8): Promise<CallCost> {
  const item = JSON.stringify({ Item: { requestId: { S: 'r-1' }, status: { S: 'PENDING' }, round: { N: '1' } } });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(item) });
      res.end(item);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } }));
  const sdkCall = () => doc.send(new GetCommand({ TableName: 'bench', Key: { requestId: 'r-1' }, ConsistentRead: true }));
  const httpCall = async () => (await fetch(endpoint, { method: 'POST', body: '{"TableName":"bench"}' })).arrayBuffer();
  try {
    // Warm both paths (JIT, sockets) before counting.
    await cpuMsPer(300, concurrency, sdkCall);
    await cpuMsPer(300, concurrency, httpCall);
    return { calls, concurrency, sdkCpuMs: await cpuMsPer(calls, concurrency, sdkCall), httpCpuMs: await cpuMsPer(calls, concurrency, httpCall) };
  } finally {
    doc.destroy();
    await closeServer(server);
  }
}

/** The most operations per second the machine's cores allow when each costs `calls` SDK calls and nothing else. */
export function ceilingOf(cost: CallCost, calls: number, cores = cpus().length): Ceiling {
  return { callsPerOperation: calls, perSecond: (cores * 1000) / (calls * cost.sdkCpuMs) };
}
