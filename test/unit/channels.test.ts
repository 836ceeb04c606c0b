import { readdirSync, readFileSync } from 'node:fs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { channelsFromEnv } from '#shared/channels/registry.ts';
import { SLACK_INTERACTIONS_PATH } from '#shared/channels/slack-route.ts';
import { ENV } from '#shared/env.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';

const secrets = new SecretsManagerClient({ region: 'us-east-1' });
const groups = { reviewerGroups: { ops: { tiers: [{ name: 'one', members: ['a@example.com'] }] } } };
const emailOnly = parseDeploymentConfig({ sender: 'hitl@example.com', ...groups });
const withSlack = parseDeploymentConfig({ sender: 'hitl@example.com', slack: { channel: 'C0REVIEWS' }, ...groups });
const env = { [ENV.slackSecretId]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:slack' };

describe('the channel registry', () => {
  it('email always, Slack when the config has it, in delivery order', () => {
    expect(channelsFromEnv(emailOnly, {}, secrets).map((c) => c.name)).toEqual(['email']);
    const channels = channelsFromEnv(withSlack, env, secrets);
    expect(channels.map((c) => c.name)).toEqual(['email', 'slack']);
    expect(channels.filter((c) => c.primary).map((c) => c.name)).toEqual(['email']);
    expect(channels.flatMap((c) => (c.interactions ? [c.interactions.path] : []))).toEqual([SLACK_INTERACTIONS_PATH]);
  });

  it('leaves out every channel with a secret of its own for a function that reaches nobody (no secret id needed)', () => {
    expect(channelsFromEnv(withSlack, {}, secrets, { credentials: false }).map((c) => c.name)).toEqual(['email']);
  });

  it('fails loudly when the config turns Slack on but the function was not given its secret', () => {
    expect(() => channelsFromEnv(withSlack, {}, secrets)).toThrow(new RegExp(ENV.slackSecretId));
  });

  it('is the only wiring: no review service imports a channel module', () => {
    const dir = new URL('../../shared/review/', import.meta.url);
    const offenders = readdirSync(dir).filter((f) => /from '\.\.\/channels\//.test(readFileSync(new URL(f, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
