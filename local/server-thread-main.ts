/** Runs in a stand-in's worker thread (server-thread.ts): starts the one server it is given, on 127.0.0.1. */
import type { Server } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { closeServer, keepIdleConnections } from './http.ts';
import { startSes } from './ses.ts';
import type { ThreadServerData, ThreadServerMessage } from './server-thread.ts';

const data = workerData as ThreadServerData;
const post = (message: ThreadServerMessage) => parentPort!.postMessage(message);

async function start(): Promise<{ server: Server; stop?: () => void }> {
  const ses = await startSes(data.port, data.path, { fsync: data.fsync, warn: (line) => post({ type: 'warn', line }) });
  keepIdleConnections(ses.server);
  if (!ses.server.listening) throw Object.assign(new Error(`Port ${data.port} for ${data.what} is in use`), { code: 'EADDRINUSE' });
  return { server: ses.server, stop: ses.stop };
}

start().then(
  ({ server, stop }) => {
    post({ type: 'listening', port: (server.address() as { port: number }).port });
    parentPort!.on('message', (message: { type: 'close' }) => {
      if (message.type !== 'close') return;
      stop?.();
      void closeServer(server).finally(() => post({ type: 'closed' }));
    });
  },
  (err: unknown) => post({ type: 'failed', message: (err as Error).message, code: (err as NodeJS.ErrnoException).code }),
);
