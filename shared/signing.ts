/**
 * Signed review links. A link names one request, one approver and an expiry, and is signed with
 * HMAC-SHA256 under a key id, so keys can rotate: a new current key signs new links while older
 * keys stay in the ring until the links they signed have expired.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError, LinkError } from './errors.ts';

export interface KeyRing {
  currentKeyId: string;
  keys: Record<string, Uint8Array>;
}

export interface LinkClaims {
  requestId: string;
  approver: string;
  /** Epoch seconds. */
  expiresAt: number;
}

export interface VerifiedLink {
  approver: string;
  expiresAt: number;
  keyId: string;
  /** Authentic but past its expiry: fine for showing what happened, never for deciding. */
  expired: boolean;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** 32 bytes of HMAC-SHA256, base64url without padding. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
/** Whole seconds spelled as reviewUrl spells them: no leading zero, so a link has one valid spelling. */
const EPOCH_SECONDS = /^(?:0|[1-9]\d{0,11})$/;
const MIN_SECRET_LENGTH = 32;
const MAX_FIELD_LENGTH = 320;

/**
 * Parse the signing secret: `{"current":"k1","k1":"<secret>","k2":"<older secret>"}`.
 * Every property other than `current` is a key id; `current` names the one that signs new links.
 */
export function parseKeyRing(secretString: string): KeyRing {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new ConfigError('The link signing secret is not JSON; expected {"current":"k1","k1":"<secret>"}');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError('The link signing secret must be a JSON object such as {"current":"k1","k1":"<secret>"}');
  }
  const { current, ...rest } = parsed as Record<string, unknown>;
  if (typeof current !== 'string' || !KEY_ID.test(current)) {
    throw new ConfigError('The link signing secret needs "current": the id of the key that signs new links');
  }
  // No prototype: a key id such as "__proto__" stays an ordinary entry.
  const keys: Record<string, Uint8Array> = Object.create(null);
  for (const [keyId, secret] of Object.entries(rest)) {
    if (!KEY_ID.test(keyId)) {
      throw new ConfigError(`Link signing key id "${keyId}" is invalid; use 1-64 letters, digits, "_" or "-"`);
    }
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw new ConfigError(`Link signing key "${keyId}" must be a string of at least ${MIN_SECRET_LENGTH} random characters`);
    }
    keys[keyId] = new Uint8Array(Buffer.from(secret, 'utf8'));
  }
  if (!keys[current]) {
    throw new ConfigError(`The link signing secret names "${current}" as current but has no key with that id`);
  }
  return { currentKeyId: current, keys };
}

function sign(key: Uint8Array, requestId: string, approver: string, expiresAt: number, keyId: string): Buffer {
  // A JSON array is an unambiguous encoding of the fields: no separator can be smuggled into one of them.
  const message = JSON.stringify(['hitl-link/1', requestId, approver, expiresAt, keyId]);
  return createHmac('sha256', key).update(message, 'utf8').digest();
}

/** `${baseUrl}/r/<requestId>?a=<approver>&e=<expiresAt>&k=<keyId>&s=<signature>`, signed with the current key. */
export function reviewUrl(baseUrl: string, claims: LinkClaims, ring: KeyRing): string {
  const keyId = ring.currentKeyId;
  const key = ring.keys[keyId];
  if (!key) throw new ConfigError(`The link signing key ring has no current key "${keyId}"`);
  if (!Number.isSafeInteger(claims.expiresAt) || claims.expiresAt < 0) {
    throw new RangeError(`expiresAt must be whole epoch seconds, got ${claims.expiresAt}`);
  }
  const signature = sign(key, claims.requestId, claims.approver, claims.expiresAt, keyId).toString('base64url');
  const query = new URLSearchParams({ a: claims.approver, e: String(claims.expiresAt), k: keyId, s: signature });
  return `${baseUrl.replace(/\/+$/, '')}/r/${encodeURIComponent(claims.requestId)}?${query.toString()}`;
}

function isPlainField(value: string | undefined): value is string {
  // eslint-disable-next-line no-control-regex
  return value !== undefined && value.length > 0 && value.length <= MAX_FIELD_LENGTH && !/[\u0000-\u001f\u007f]/.test(value);
}

/**
 * Check a link's query (`a`, `e`, `k`, `s`) for `requestId`. Throws LinkError `malformed`, `unknown-key` or
 * `bad-signature`; an authentic link past its expiry comes back with `expired: true`.
 */
export function verifyLink(requestId: string, query: Record<string, string | undefined>, ring: KeyRing, nowMs: number): VerifiedLink {
  const { a: approver, e, k: keyId, s } = query;
  if (!isPlainField(requestId) || !isPlainField(approver) || e === undefined || !EPOCH_SECONDS.test(e)) {
    throw new LinkError('malformed', 'This review link is incomplete or damaged');
  }
  if (keyId === undefined || !KEY_ID.test(keyId) || s === undefined || !SIGNATURE.test(s)) {
    throw new LinkError('malformed', 'This review link is incomplete or damaged');
  }
  const given = Buffer.from(s, 'base64url');
  // Only the canonical spelling of a signature is accepted, so a link has exactly one valid form.
  if (given.toString('base64url') !== s) throw new LinkError('malformed', 'This review link is incomplete or damaged');

  const key = Object.hasOwn(ring.keys, keyId) ? ring.keys[keyId] : undefined;
  if (!key) throw new LinkError('unknown-key', 'This review link was signed with a key that is no longer in use');

  const expiresAt = Number(e);
  const expected = sign(key, requestId, approver, expiresAt, keyId);
  if (!timingSafeEqual(expected, given)) {
    throw new LinkError('bad-signature', 'This review link does not carry a valid signature');
  }
  return { approver, expiresAt, keyId, expired: expiresAt * 1000 <= nowMs };
}
