import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/errors.ts';
import { DEFAULT_KEY_RING_TTL_MS, keyRingLoader, MIN_FORCED_REFRESH_MS } from '#shared/signing-keys.ts';

const K1 = 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz';
const K2 = 'k2-secret-ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210';
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:hitl-signing';

const sm = mockClient(SecretsManagerClient);
const client = new SecretsManagerClient({ region: 'us-east-1' });

describe('keyRingLoader', () => {
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    sm.reset();
    now = 1_000_000;
  });

  it('reads the secret once, then serves the cache until the ttl passes', async () => {
    sm.on(GetSecretValueCommand, { SecretId: SECRET_ID })
      .resolvesOnce({ SecretString: JSON.stringify({ current: 'k1', k1: K1 }) })
      .resolves({ SecretString: JSON.stringify({ current: 'k2', k1: K1, k2: K2 }) });
    const load = keyRingLoader(client, SECRET_ID, undefined, clock);

    expect((await load()).currentKeyId).toBe('k1');
    now += DEFAULT_KEY_RING_TTL_MS - 1;
    expect((await load()).currentKeyId).toBe('k1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);

    now += 1;
    expect((await load()).currentKeyId).toBe('k2');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('shares one read between concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ current: 'k1', k1: K1 }) });
    const load = keyRingLoader(client, SECRET_ID, 60_000, clock);
    const rings = await Promise.all(Array.from({ length: 10 }, () => load()));
    expect(new Set(rings).size).toBe(1);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('refreshes on demand, at most once per MIN_FORCED_REFRESH_MS', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ current: 'k1', k1: K1 }) })
      .resolves({ SecretString: JSON.stringify({ current: 'k2', k1: K1, k2: K2 }) });
    const load = keyRingLoader(client, SECRET_ID, 60 * 60_000, clock);
    await load();
    now += 1000;
    expect((await load({ refresh: true })).currentKeyId).toBe('k1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    now += MIN_FORCED_REFRESH_MS;
    expect((await load({ refresh: true })).currentKeyId).toBe('k2');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('propagates a failed first read, and retries on the next call', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('throttled'))
      .resolves({ SecretString: JSON.stringify({ current: 'k1', k1: K1 }) });
    const load = keyRingLoader(client, SECRET_ID, 60_000, clock);
    await expect(load()).rejects.toThrow('throttled');
    expect((await load()).currentKeyId).toBe('k1');
  });

  it('serves the cached ring while a refresh fails', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ current: 'k1', k1: K1 }) })
      .rejectsOnce(new Error('service unavailable'))
      .resolves({ SecretString: JSON.stringify({ current: 'k2', k1: K1, k2: K2 }) });
    const load = keyRingLoader(client, SECRET_ID, 60_000, clock);
    await load();
    now += 60_000;
    expect((await load()).currentKeyId).toBe('k1');
    expect((await load()).currentKeyId).toBe('k2');
  });

  it('fails loudly on a malformed secret, even with a cached ring', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ current: 'k1', k1: K1 }) })
      .resolves({ SecretString: '{"current":"k3"}' });
    const load = keyRingLoader(client, SECRET_ID, 60_000, clock);
    await load();
    now += 60_000;
    await expect(load()).rejects.toThrow(ConfigError);
  });

  it('rejects a secret without SecretString', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });
    await expect(keyRingLoader(client, SECRET_ID)()).rejects.toThrow(ConfigError);
  });
});
