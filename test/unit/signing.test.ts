import * as crypto from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { ConfigError, LinkError } from '#shared/errors.ts';
import { parseKeyRing, reviewUrl, verifyLink, type KeyRing } from '#shared/signing.ts';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const K1 = 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const K2 = 'k2-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210';
const ring1 = parseKeyRing(JSON.stringify({ current: 'k1', k1: K1 }));
const NOW = Date.parse('2025-06-03T13:00:00Z');
const claims = { requestId: 'r0123456789abcdef01234567', approver: 'lead@example.com', expiresAt: NOW / 1000 + 3600 };

function queryOf(url: string): { requestId: string; query: Record<string, string> } {
  const u = new URL(url);
  const requestId = decodeURIComponent(u.pathname.split('/').at(-1) ?? '');
  return { requestId, query: Object.fromEntries(u.searchParams) };
}

function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof LinkError) return error.reason;
    throw error;
  }
  return 'verified';
}

describe('parseKeyRing', () => {
  it('reads the current key id and every key', () => {
    const ring = parseKeyRing(JSON.stringify({ current: 'k2', k1: K1, k2: K2 }));
    expect(ring.currentKeyId).toBe('k2');
    expect(Object.keys(ring.keys).sort()).toEqual(['k1', 'k2']);
    expect(Buffer.from(ring.keys.k2 as Uint8Array).toString()).toBe(K2);
  });

  it.each([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['no current', JSON.stringify({ k1: K1 })],
    ['current naming a missing key', JSON.stringify({ current: 'k2', k1: K1 })],
    ['a short secret', JSON.stringify({ current: 'k1', k1: 'short' })],
    ['a non-string secret', JSON.stringify({ current: 'k1', k1: 42 })],
    ['a bad key id', JSON.stringify({ current: 'k1', k1: K1, 'bad id': K2 })],
  ])('rejects %s with ConfigError', (_what, secret) => {
    expect(() => parseKeyRing(secret)).toThrow(ConfigError);
  });

  it('never echoes a secret in its error', () => {
    try {
      parseKeyRing(JSON.stringify({ current: 'k1', k1: K1, k2: 'tooshort-secret' }));
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('tooshort-secret');
    }
  });

  it('keeps a "__proto__" key id as an ordinary key', () => {
    const ring = parseKeyRing(`{"current":"__proto__","__proto__":"${K1}"}`);
    expect(Object.hasOwn(ring.keys, '__proto__')).toBe(true);
    const url = reviewUrl('https://x.test', claims, ring);
    const { requestId, query } = queryOf(url);
    expect(verifyLink(requestId, query, ring, NOW).keyId).toBe('__proto__');
  });
});

describe('reviewUrl', () => {
  it('builds /r/<id>?a=&e=&k=&s= under the base URL', () => {
    const url = reviewUrl('https://review.example.com/prod/', claims, ring1);
    const u = new URL(url);
    expect(`${u.origin}${u.pathname}`).toBe(`https://review.example.com/prod/r/${claims.requestId}`);
    expect([...u.searchParams.keys()]).toEqual(['a', 'e', 'k', 's']);
    expect(u.searchParams.get('a')).toBe('lead@example.com');
    expect(u.searchParams.get('e')).toBe(String(claims.expiresAt));
    expect(u.searchParams.get('k')).toBe('k1');
    expect(u.searchParams.get('s')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('encodes a request id that needs it', () => {
    const url = reviewUrl('https://x.test', { ...claims, requestId: 'a/b?c' }, ring1);
    expect(url.startsWith('https://x.test/r/a%2Fb%3Fc?')).toBe(true);
    const { requestId, query } = queryOf(url);
    expect(verifyLink(requestId, query, ring1, NOW).approver).toBe(claims.approver);
  });
});

describe('verifyLink', () => {
  const url = reviewUrl('https://x.test', claims, ring1);
  const { requestId, query } = queryOf(url);

  it('round-trips', () => {
    expect(verifyLink(requestId, query, ring1, NOW)).toEqual({
      approver: claims.approver,
      expiresAt: claims.expiresAt,
      keyId: 'k1',
      expired: false,
    });
  });

  it('compares signatures in constant time', () => {
    const spy = vi.mocked(crypto.timingSafeEqual);
    spy.mockClear();
    verifyLink(requestId, query, ring1, NOW);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(reason(() => verifyLink(requestId, { ...query, a: 'other@example.com' }, ring1, NOW))).toBe('bad-signature');
    expect(spy).toHaveBeenCalledTimes(2);
  });

  it('rejects a different request id', () => {
    expect(reason(() => verifyLink('r0123456789abcdef01234568', query, ring1, NOW))).toBe('bad-signature');
  });

  it('rejects a link for another approver', () => {
    expect(reason(() => verifyLink(requestId, { ...query, a: 'manager@example.com' }, ring1, NOW))).toBe('bad-signature');
    expect(reason(() => verifyLink(requestId, { ...query, a: 'LEAD@example.com' }, ring1, NOW))).toBe('bad-signature');
  });

  it('rejects a moved expiry', () => {
    expect(reason(() => verifyLink(requestId, { ...query, e: String(claims.expiresAt + 86400) }, ring1, NOW))).toBe('bad-signature');
  });

  it('rejects a changed key id: unknown, or known but not the signing key', () => {
    expect(reason(() => verifyLink(requestId, { ...query, k: 'k9' }, ring1, NOW))).toBe('unknown-key');
    expect(reason(() => verifyLink(requestId, { ...query, k: 'constructor' }, ring1, NOW))).toBe('unknown-key');
    const both = parseKeyRing(JSON.stringify({ current: 'k1', k1: K1, k2: K2 }));
    expect(reason(() => verifyLink(requestId, { ...query, k: 'k2' }, both, NOW))).toBe('bad-signature');
  });

  it('rejects a tampered signature', () => {
    const s = query.s as string;
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    expect(reason(() => verifyLink(requestId, { ...query, s: flipped }, ring1, NOW))).toBe('bad-signature');
  });

  it('rejects a signature made with another secret under the same key id', () => {
    const forged = parseKeyRing(JSON.stringify({ current: 'k1', k1: K2 }));
    const other = queryOf(reviewUrl('https://x.test', claims, forged)).query;
    expect(reason(() => verifyLink(requestId, other, ring1, NOW))).toBe('bad-signature');
  });

  it.each([
    ['no approver', { a: undefined }],
    ['an empty approver', { a: '' }],
    ['an approver with a line break', { a: 'lead@example.com\nx' }],
    ['no expiry', { e: undefined }],
    ['a non-numeric expiry', { e: '12abc' }],
    ['a negative expiry', { e: '-5' }],
    ['no key id', { k: undefined }],
    ['a key id with odd characters', { k: 'k1;' }],
    ['no signature', { s: undefined }],
    ['a short signature', { s: 'abc' }],
    ['a padded signature', { s: `${(query.s as string).slice(0, 42)}=` }],
  ])('calls a link with %s malformed', (_what, change) => {
    expect(reason(() => verifyLink(requestId, { ...query, ...change }, ring1, NOW))).toBe('malformed');
  });

  it('accepts only the canonical spelling of a signature', () => {
    const s = query.s as string;
    const last = s.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last character carries 2 unused bits: its neighbours in the alphabet decode to the same bytes.
    const sibling = alphabet[(alphabet.indexOf(last) & ~3) | ((alphabet.indexOf(last) + 1) & 3)] as string;
    const alt = s.slice(0, -1) + sibling;
    expect(Buffer.from(alt, 'base64url').equals(Buffer.from(s, 'base64url'))).toBe(true);
    expect(reason(() => verifyLink(requestId, { ...query, s: alt }, ring1, NOW))).toBe('malformed');
  });

  it('accepts only the canonical spelling of an expiry: digits, no leading zero, sign, space or exponent', () => {
    const e = String(claims.expiresAt);
    for (const spelling of [`0${e}`, `00${e}`, `+${e}`, ` ${e}`, `${e} `, `${e}.0`, `${Number(e) / 1000}e3`, `0x${Number(e).toString(16)}`]) {
      expect(Number(spelling), spelling).toBe(claims.expiresAt);
      expect(reason(() => verifyLink(requestId, { ...query, e: spelling }, ring1, NOW)), JSON.stringify(spelling)).toBe('malformed');
    }
    expect(reason(() => verifyLink(requestId, { ...query, e }, ring1, NOW))).toBe('verified');
    // Zero itself has one spelling, "0" (and a link that old is expired).
    const epoch = queryOf(reviewUrl('https://x.test', { ...claims, expiresAt: 0 }, ring1)).query;
    expect(epoch.e).toBe('0');
    expect(verifyLink(requestId, epoch, ring1, NOW).expired).toBe(true);
    expect(reason(() => verifyLink(requestId, { ...epoch, e: '00' }, ring1, NOW))).toBe('malformed');
  });

  it('returns expired: true for an authentic link past its expiry', () => {
    const later = (claims.expiresAt + 1) * 1000;
    expect(verifyLink(requestId, query, ring1, later)).toMatchObject({ expired: true, approver: claims.approver });
    expect(verifyLink(requestId, query, ring1, claims.expiresAt * 1000).expired).toBe(true);
    expect(verifyLink(requestId, query, ring1, claims.expiresAt * 1000 - 1).expired).toBe(false);
  });

  it('checks the signature before reporting expiry', () => {
    const later = (claims.expiresAt + 1) * 1000;
    expect(reason(() => verifyLink(requestId, { ...query, a: 'x@example.com' }, ring1, later))).toBe('bad-signature');
  });
});

describe('key rotation', () => {
  it('keeps verifying k1 links after k2 becomes current, and signs new links with k2', () => {
    const old = queryOf(reviewUrl('https://x.test', claims, ring1));
    const rotated: KeyRing = parseKeyRing(JSON.stringify({ current: 'k2', k1: K1, k2: K2 }));

    expect(verifyLink(old.requestId, old.query, rotated, NOW)).toMatchObject({ keyId: 'k1', expired: false });

    const fresh = queryOf(reviewUrl('https://x.test', claims, rotated));
    expect(fresh.query.k).toBe('k2');
    expect(verifyLink(fresh.requestId, fresh.query, rotated, NOW)).toMatchObject({ keyId: 'k2', expired: false });
    // A k2 link is unknown to an instance that has not loaded the rotated ring yet.
    expect(reason(() => verifyLink(fresh.requestId, fresh.query, ring1, NOW))).toBe('unknown-key');

    const retired = parseKeyRing(JSON.stringify({ current: 'k2', k2: K2 }));
    expect(reason(() => verifyLink(old.requestId, old.query, retired, NOW))).toBe('unknown-key');
  });
});
