/**
 * DynamoDB (dynalite and its transaction front, dynamodb.ts) in a worker thread of its own: the handlers, the
 * Step Functions engine and the other stand-ins share the main thread, so the table work gets the machine's
 * other core. A worker dies with its process, so a kill -9 of the stack leaves nothing behind; the next start
 * recovers the transaction journal as before.
 */
import { Worker } from 'node:worker_threads';
import { PortInUseError } from './http.ts';

export interface DynamoThreadData {
  path: string | undefined;
  fsync: boolean;
  port: number;
}

export type DynamoThreadMessage = { type: 'listening'; port: number } | { type: 'failed'; message: string; code?: string } | { type: 'closed' };

export interface DynamoWorker {
  port: number;
  close(): Promise<void>;
}

export async function startDynamoWorker(data: DynamoThreadData): Promise<DynamoWorker> {
  // execArgv [] : the entry registers its own TypeScript loader; the parent's flags (tsx, --cpu-prof) stay with it.
  const worker = new Worker(new URL('./dynamodb-thread.mjs', import.meta.url), { workerData: data, execArgv: [] });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The DynamoDB worker exited (code ${code}) before it listened`)));
    worker.once('message', (message: DynamoThreadMessage) => {
      if (message.type === 'listening') resolve(message.port);
      else if (message.type === 'failed') {
        reject(message.code === 'EADDRINUSE' ? new PortInUseError('DynamoDB (dynalite)', data.port) : new Error(`DynamoDB worker: ${message.message}`));
      }
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.on('error', (err) => process.emitWarning(`DynamoDB worker failed: ${err.message}`));
  return {
    port,
    async close() {
      worker.postMessage({ type: 'close' });
      const closed = new Promise<void>((resolve) => worker.on('message', (m: DynamoThreadMessage) => m.type === 'closed' && resolve()));
      await Promise.race([closed, exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      await worker.terminate();
    },
  };
}
