/**
 * One webhook attempt: a POST that follows no redirect, connects only to addresses the URL may reach (checked
 * on the address actually connected to, so a DNS answer cannot swap in a private one), gives up after a
 * timeout and reads at most a few KB of the answer.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isLoopbackHost, isPrivateAddress } from './addresses.ts';

/** How much of an answer is read before the connection is dropped; the body is never used. */
export const MAX_RESPONSE_BYTES = 8 * 1024;

/** The URL's host resolved to an address it may not reach; retrying will not help. */
export class WebhookAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookAddressError';
  }
}

export class WebhookTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
    this.name = 'WebhookTimeoutError';
  }
}

export interface PostResult {
  status: number;
}

export type Post = (url: string, headers: Record<string, string>, body: string, options: { timeoutMs: number }) => Promise<PostResult>;

/**
 * A lookup that refuses private addresses; by default except for `localhost`, which a deployment can only
 * allow by listing it.
 */
export function guardedLookup(host: string, allowPrivate = isLoopbackHost(host)): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (err: Error | null, address?: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err);
      const refused = allowPrivate ? undefined : addresses.find((a) => isPrivateAddress(a.address));
      if (refused) return callback(new WebhookAddressError(`${hostname} resolves to ${refused.address}, a private or reserved address; list the address itself in webhooks.allowedHosts to reach it`));
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  }) as unknown as LookupFunction;
}

export const postWebhook: Post = (url, headers, body, { timeoutMs }) =>
  new Promise((resolve, reject) => {
    const target = new URL(url);
    const options: RequestOptions = {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'hitl-webhooks/1' },
      lookup: guardedLookup(target.hostname),
      // No connection kept for later: each attempt resolves and checks the address again.
      agent: false,
    };
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(target, options, (res) => {
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('close', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0 });
      });
      res.on('error', () => undefined);
    });
    const timer = setTimeout(() => req.destroy(new WebhookTimeoutError(timeoutMs)), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end(body);
  });
