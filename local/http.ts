/** Small helpers shared by the local servers: listening on 127.0.0.1, reading bodies, closing cleanly. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export const LOCAL_HOST = '127.0.0.1';
const MAX_BODY_BYTES = 10 * 1024 * 1024;

export class PortInUseError extends Error {
  constructor(what: string, port: number, options?: { cause?: unknown }) {
    super(`Port ${port} for the ${what} is in use; stop whatever holds it or choose another port (see docs/local-stack.md)`, options);
    this.name = 'PortInUseError';
  }
}

/**
 * Idle keep-alive connections stay open until the client closes them or the stack stops. With Node's default
 * (closed after 5 s idle), a client whose event loop is busy can send on a connection the server has just
 * closed and get "socket hang up"; the SDK's retries can pick other such connections from its pool. Over
 * 127.0.0.1 an open idle connection costs nothing.
 */
export function keepIdleConnections(server: Server): void {
  server.keepAliveTimeout = 0;
}

/** Listen on 127.0.0.1 (port 0 picks a free one) and return the port actually bound. */
export async function listen(server: Server, port: number, what: string): Promise<number> {
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(what, port, { cause: err }) : err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, LOCAL_HOST);
  });
  return (server.address() as AddressInfo).port;
}

/** Stop accepting connections, drop idle keep-alive ones, and wait for the close. */
export async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error(`Request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json', headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function urlOf(port: number): string {
  return `http://${LOCAL_HOST}:${port}`;
}
