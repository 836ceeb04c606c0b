/**
 * A stand-in in a worker thread of its own: SES (ses.ts). The handlers, the Step Functions engine and the other
 * stand-ins share the main thread, so mail work gets the machine's other core. A worker dies with its process,
 * so a kill -9 of the stack leaves nothing behind, and the next start recovers from the same files as before.
 */
import { Worker } from 'node:worker_threads';
import { PortInUseError } from './http.ts';

export interface ThreadServerData {
  kind: 'ses';
  /** What the server is, for messages ("SES and the mail viewer"). */
  what: string;
  /** Its state: the mail file. */
  path: string | undefined;
  fsync: boolean;
  /** 0 picks a free one. */
  port: number;
}

export type ThreadServerMessage =
  | { type: 'listening'; port: number }
  | { type: 'failed'; message: string; code?: string }
  | { type: 'warn'; line: string }
  | { type: 'closed' };

export interface ThreadServer {
  port: number;
  close(): Promise<void>;
}

export async function startThreadServer(data: ThreadServerData, warn: (line: string) => void): Promise<ThreadServer> {
  // execArgv []: the entry registers its own TypeScript loader; the parent's flags (tsx, --cpu-prof) stay with it.
  const worker = new Worker(new URL('./server-thread.mjs', import.meta.url), { workerData: data, execArgv: [] });
  let closing = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: ThreadServerMessage) => message.type === 'warn' && warn(message.line));
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`The ${data.what} thread exited (code ${code}) before it listened`)));
    worker.on('message', (message: ThreadServerMessage) => {
      if (message.type === 'listening') resolve(message.port);
      else if (message.type === 'failed') reject(message.code === 'EADDRINUSE' ? new PortInUseError(data.what, data.port) : new Error(`${data.what}: ${message.message}`));
    });
  }).catch(async (err: unknown) => {
    await worker.terminate();
    throw err;
  });
  worker.on('error', (err) => warn(`${data.what} failed: ${err.message}`));
  worker.on('exit', (code) => closing || warn(`${data.what} stopped unexpectedly (code ${code}); restart the stack`));
  return {
    port,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => worker.on('message', (m: ThreadServerMessage) => m.type === 'closed' && resolve()));
      worker.postMessage({ type: 'close' });
      await Promise.race([closed, exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      await worker.terminate();
    },
  };
}
