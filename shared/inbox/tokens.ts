/**
 * The web inbox's credentials: the emailed sign-in link's token, the session cookie and the per-session form
 * token. Each is signed with HMAC-SHA256 under a key derived (HKDF) from the link signing key ring's key for
 * its purpose, so an inbox token can never pass as a review link or as another kind of inbox token, and
 * rotating the ring rotates these too. Verification is constant-time.
 *
 * A token is `<payload>.<keyId>.<signature>`, the payload base64url JSON: purpose, approver, expiry (epoch
 * seconds) and a random nonce (the sign-in link's single-use key; the session's form-token seed).
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { ConfigError } from '../errors.ts';
import type { KeyRing } from '../signing.ts';

export type TokenPurpose = 'sign-in' | 'session';

/** How long an emailed sign-in link works. */
export const SIGN_IN_LINK_SECONDS = 15 * 60;
/** How long a session lasts from sign-in; then the reviewer asks for a new link. */
export const SESSION_SECONDS = 8 * 60 * 60;

export interface InboxToken {
  purpose: TokenPurpose;
  approver: string;
  /** Epoch seconds. */
  expiresAt: number;
  nonce: string;
}

/** `malformed`, `bad-signature` (forged or damaged: 401) or `expired` (authentic but too old: 410). */
export class InboxTokenError extends Error {
  constructor(
    readonly reason: 'malformed' | 'bad-signature' | 'expired',
    message: string,
  ) {
    super(message);
    this.name = 'InboxTokenError';
  }
}

const Payload = z.object({
  p: z.enum(['sign-in', 'session']),
  a: z.email().max(254),
  e: z.number().int().min(0),
  n: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
});

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
const MAX_TOKEN_LENGTH = 1024;

const derived = new WeakMap<Uint8Array, Map<string, Buffer>>();

function keyFor(ring: KeyRing, keyId: string, purpose: string): Buffer | undefined {
  const base = Object.hasOwn(ring.keys, keyId) ? ring.keys[keyId] : undefined;
  if (!base) return undefined;
  let byPurpose = derived.get(base);
  if (!byPurpose) derived.set(base, (byPurpose = new Map()));
  let key = byPurpose.get(purpose);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', base, Buffer.alloc(0), `hitl-inbox/1/${purpose}`, 32));
    byPurpose.set(purpose, key);
  }
  return key;
}

function mac(key: Buffer, text: string): Buffer {
  return createHmac('sha256', key).update(text, 'utf8').digest();
}

export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

export function signToken(ring: KeyRing, token: InboxToken): string {
  const keyId = ring.currentKeyId;
  const key = keyFor(ring, keyId, token.purpose);
  if (!key) throw new ConfigError(`The link signing key ring has no current key "${keyId}"`);
  const payload = Buffer.from(JSON.stringify({ p: token.purpose, a: token.approver, e: token.expiresAt, n: token.nonce })).toString('base64url');
  return `${payload}.${keyId}.${mac(key, `${payload}.${keyId}`).toString('base64url')}`;
}

/** Check a token for `purpose`. Throws InboxTokenError; an expired token is reported only once it is known to be authentic. */
export function verifyToken(ring: KeyRing, purpose: TokenPurpose, text: string | undefined, nowMs: number): InboxToken {
  const parts = text !== undefined && text.length <= MAX_TOKEN_LENGTH ? text.split('.') : [];
  const [payload, keyId, signature] = parts;
  if (parts.length !== 3 || !payload || !keyId || !KEY_ID.test(keyId) || !signature || !SIGNATURE.test(signature)) {
    throw new InboxTokenError('malformed', 'This link is incomplete or damaged');
  }
  const given = Buffer.from(signature, 'base64url');
  const key = keyFor(ring, keyId, purpose);
  if (!key || given.toString('base64url') !== signature || !timingSafeEqual(mac(key, `${payload}.${keyId}`), given)) {
    throw new InboxTokenError('bad-signature', 'This link does not carry a valid signature');
  }
  let claims: z.infer<typeof Payload>;
  try {
    claims = Payload.parse(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')));
  } catch {
    throw new InboxTokenError('malformed', 'This link is incomplete or damaged');
  }
  if (claims.p !== purpose) throw new InboxTokenError('bad-signature', 'This link does not carry a valid signature');
  if (claims.e * 1000 <= nowMs) throw new InboxTokenError('expired', 'This link has expired');
  return { purpose: claims.p, approver: claims.a, expiresAt: claims.e, nonce: claims.n };
}

/** The session's form token: every POST of a signed-in page carries it (with SameSite=Strict, the CSRF defence). */
export function formToken(ring: KeyRing, session: InboxToken): string {
  const key = keyFor(ring, ring.currentKeyId, 'form');
  if (!key) throw new ConfigError(`The link signing key ring has no current key "${ring.currentKeyId}"`);
  return mac(key, `${session.approver}\n${session.nonce}`).toString('base64url');
}

export function verifyFormToken(ring: KeyRing, session: InboxToken, given: string | undefined): boolean {
  if (given === undefined || !SIGNATURE.test(given)) return false;
  const givenBytes = Buffer.from(given, 'base64url');
  // Any key of the ring: a rotation during a session must not void the page the reviewer has open.
  return Object.keys(ring.keys).some((keyId) => {
    const key = keyFor(ring, keyId, 'form')!;
    return timingSafeEqual(mac(key, `${session.approver}\n${session.nonce}`), givenBytes);
  });
}
