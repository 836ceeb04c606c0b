/**
 * The local stand-in for the host app's identity provider and API Gateway's JWT authorizer. The local stack
 * generates one signing key pair (`<state dir>/in-app-issuer.json`, kept across restarts); `hitl token`
 * mints a JWT with it for any user, with the issuer and audience of the config's `inApp`; the local API
 * server verifies tokens against the public key (its JWKS) as API Gateway verifies them against the
 * issuer's: signature, `iss`, `aud` (or `client_id`), `exp` and `nbf`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JSONWebKeySet, type JWK, type JWTPayload } from 'jose';
import { readJsonFile, writeJsonFile } from './json-file.ts';

export const ISSUER_KEY_FILE = 'in-app-issuer.json';
const ALG = 'ES256';

interface IssuerKeys {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

export interface InAppSettings {
  issuer: string;
  audience: string[];
}

/** The key pair in the state directory, created on first use. */
export async function ensureIssuerKeys(stateDir: string): Promise<IssuerKeys> {
  const file = join(stateDir, ISSUER_KEY_FILE);
  if (existsSync(file)) return readJsonFile<IssuerKeys>(file, undefined as never);
  const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
  const kid = `hitl-local-${Date.now().toString(36)}`;
  const keys: IssuerKeys = {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: ALG },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: ALG, use: 'sig' },
  };
  writeJsonFile(file, keys);
  return keys;
}

/** The public keys, as an identity provider publishes them at its jwks_uri. */
export function jwksOf(keys: IssuerKeys): JSONWebKeySet {
  return { keys: [keys.publicJwk] };
}

export interface MintOptions extends InAppSettings {
  sub: string;
  /** Lifetime in seconds; negative mints an expired token (tests). @default 3600 */
  ttlSeconds?: number;
  /** Another audience than the configured first one (tests). */
  aud?: string;
  email?: string;
}

export async function mintToken(keys: IssuerKeys, options: MintOptions): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const ttl = options.ttlSeconds ?? 3600;
  const claims: JWTPayload = options.email ? { email: options.email } : {};
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid: keys.kid, typ: 'JWT' })
    .setIssuer(options.issuer)
    .setAudience(options.aud ?? options.audience[0]!)
    .setSubject(options.sub)
    .setIssuedAt(Math.min(now, now + ttl - 60))
    .setExpirationTime(now + ttl)
    .sign(await importJWK(keys.privateJwk, ALG));
}

/** Claims as API Gateway puts them in `requestContext.authorizer.jwt.claims`: every value a string. */
function gatewayClaims(payload: JWTPayload): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : Array.isArray(value) ? `[${value.join(' ')}]` : typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return out;
}

export type Authorize = (authorization: string | undefined) => Promise<{ claims: Record<string, string>; scopes: string[] | null } | undefined>;

/**
 * API Gateway's JWT authorizer: the token from the Authorization header (with or without `Bearer `), its
 * signature against the JWKS, its issuer, an audience (`aud`, or `client_id` when there is no `aud`), its
 * expiry and not-before. Undefined: refuse with 401.
 */
export function jwtAuthorizer(jwks: JSONWebKeySet, settings: InAppSettings): Authorize {
  const keySet = createLocalJWKSet(jwks);
  return async (authorization) => {
    const token = authorization?.replace(/^Bearer\s+/i, '').trim();
    if (!token) return undefined;
    try {
      const { payload } = await jwtVerify(token, keySet, { issuer: settings.issuer, clockTolerance: 0 });
      const audiences = payload.aud === undefined ? [payload.client_id] : Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (!audiences.some((a) => typeof a === 'string' && settings.audience.includes(a))) return undefined;
      const scope = typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : null;
      return { claims: gatewayClaims(payload), scopes: scope };
    } catch {
      return undefined;
    }
  };
}
