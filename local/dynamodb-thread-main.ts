/** Runs in the DynamoDB worker thread: dynalite and its transaction front, listening on 127.0.0.1. */
import { parentPort, workerData } from 'node:worker_threads';
import { createDynamoServer } from './dynamodb.ts';
import { closeServer, listen } from './http.ts';
import type { DynamoThreadData, DynamoThreadMessage } from './dynamodb-worker.ts';

const { path, fsync, port } = workerData as DynamoThreadData;
const server = createDynamoServer(path, { fsync });
const post = (message: DynamoThreadMessage) => parentPort!.postMessage(message);

listen(server, port, 'DynamoDB (dynalite)').then(
  (bound) => post({ type: 'listening', port: bound }),
  (err: unknown) => post({ type: 'failed', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code }),
);
parentPort!.on('message', (message: { type: 'close' }) => {
  if (message.type === 'close') void closeServer(server).finally(() => post({ type: 'closed' }));
});
