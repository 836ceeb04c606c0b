/**
 * The deployment config as it travels to the functions in HITL_CONFIG. Lambda allows 4 KB for all of a
 * function's variables, so the config is compact JSON while that fits in MAX_CONFIG_ENV_BYTES, and gzip'd
 * base64 behind a `gzip:` prefix when it does not (a policy with many rules and reviewers compresses
 * about 2.5 to 1). Either way it is read once at cold start, with no call to another service.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ConfigError } from './errors.ts';

/** What the config may take of the 4 KB, leaving room for the table names, ARNs and URL beside it. */
export const MAX_CONFIG_ENV_BYTES = 3000;

const GZIP_PREFIX = 'gzip:';

export function encodeConfigEnv(config: unknown): string {
  const json = JSON.stringify(config);
  if (Buffer.byteLength(json) <= MAX_CONFIG_ENV_BYTES) return json;
  return `${GZIP_PREFIX}${gzipSync(json, { level: 9 }).toString('base64')}`;
}

/** The config as encodeConfigEnv wrote it; `name` is the variable, for the error. */
export function decodeConfigEnv(text: string, name: string): unknown {
  let json = text;
  try {
    if (text.startsWith(GZIP_PREFIX)) json = gunzipSync(Buffer.from(text.slice(GZIP_PREFIX.length), 'base64')).toString('utf8');
    return JSON.parse(json) as unknown;
  } catch (err) {
    throw new ConfigError(`${name} is neither JSON nor gzip'd JSON: ${(err as Error).message}`, { cause: err });
  }
}
