/**
 * One webhook attempt against real sockets on 127.0.0.1 (no stack): a redirect is answered, not followed; a
 * silent receiver times out; an endless answer is cut off; a name resolving to a private address is refused
 * after DNS, before connecting.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedLookup, postWebhook, WebhookAddressError, WebhookTimeoutError } from '#shared/webhooks/post.ts';

describe('a webhook attempt', () => {
  const hits: string[] = [];
  let server: Server;
  let base: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      hits.push(req.url ?? '');
      if (req.url === '/redirect') res.writeHead(302, { location: '/landing' }).end();
      else if (req.url === '/silent') return; // never answers
      else if (req.url === '/endless') {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 'x');
        const write = () => {
          while (res.write(chunk)) if (res.destroyed) return;
          res.once('drain', write);
        };
        write();
      } else res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers a redirect with its status and does not follow it', async () => {
    expect(await postWebhook(`${base}/redirect`, {}, '{}', { timeoutMs: 5000 })).toEqual({ status: 302 });
    expect(hits).not.toContain('/landing');
  });

  it('gives up on a receiver that does not answer', async () => {
    await expect(postWebhook(`${base}/silent`, {}, '{}', { timeoutMs: 300 })).rejects.toBeInstanceOf(WebhookTimeoutError);
  });

  it('reads only the start of an endless answer', async () => {
    expect(await postWebhook(`${base}/endless`, {}, '{}', { timeoutMs: 10_000 })).toEqual({ status: 200 });
  });

  it('refuses a name that resolves to a private address unless it is allowed', async () => {
    const lookup = (allowPrivate: boolean) =>
      new Promise<unknown>((resolve, reject) =>
        (guardedLookup('localhost', allowPrivate) as unknown as (h: string, o: object, cb: (err: Error | null, a?: unknown) => void) => void)('localhost', { all: true }, (err, a) => (err ? reject(err) : resolve(a))),
      );
    await expect(lookup(false)).rejects.toBeInstanceOf(WebhookAddressError);
    await expect(lookup(false)).rejects.toThrow(/localhost resolves to .*private or reserved address/);
    expect(await lookup(true)).toEqual(expect.arrayContaining([expect.objectContaining({ address: expect.any(String) as unknown })]));
    // Listed `localhost` may be reached: the default for that name.
    expect(await postWebhook(`${base.replace('127.0.0.1', 'localhost')}/ok`, {}, '{}', { timeoutMs: 5000 })).toEqual({ status: 204 });
  });
});
