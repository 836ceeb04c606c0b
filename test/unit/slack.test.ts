import { describe, expect, it } from 'vitest';
import { signSlackRequest, verifySlackSignature } from '#shared/channels/slack-interactions.ts';
import { escapeMrkdwn } from '#shared/render/slack-blocks.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { memberId } from '#shared/schemas/member.ts';

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const BODY = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
const NOW = 1_700_000_000_000;
const TS = String(NOW / 1000);

describe('Slack request signatures (v0)', () => {
  it('accept the signature Slack computes, and nothing else', () => {
    const good = signSlackRequest(SECRET, Number(TS), BODY);
    expect(good).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(verifySlackSignature(SECRET, TS, BODY, good, NOW)).toBe('ok');
    expect(verifySlackSignature(SECRET, TS, `${BODY}x`, good, NOW)).toBe('bad');
    expect(verifySlackSignature('another-signing-secret-entirely', TS, BODY, good, NOW)).toBe('bad');
    expect(verifySlackSignature(SECRET, TS, BODY, good.slice(0, -1), NOW)).toBe('bad');
    expect(verifySlackSignature(SECRET, undefined, BODY, good, NOW)).toBe('missing');
    expect(verifySlackSignature(SECRET, TS, BODY, undefined, NOW)).toBe('missing');
    expect(verifySlackSignature(SECRET, '17e8', BODY, good, NOW)).toBe('bad');
  });

  it('refuse a timestamp more than five minutes away, either way', () => {
    const at = (offsetSeconds: number) => {
      const ts = Number(TS) + offsetSeconds;
      return verifySlackSignature(SECRET, String(ts), BODY, signSlackRequest(SECRET, ts, BODY), NOW);
    };
    expect([at(-300), at(300), at(-301), at(301)]).toEqual(['ok', 'ok', 'stale', 'stale']);
  });
});

describe('reviewer identities per channel in the config', () => {
  const base = { sender: 'hitl@example.com', slack: { channel: 'C0REVIEWS' } };
  const withMembers = (members: unknown[], extra: Record<string, unknown> = base) => ({ ...extra, reviewerGroups: { ops: { tiers: [{ name: 'ops', members }] } } });

  it('keep the email form and accept { email, slack } objects; the identity is the email, else slack:<id>', () => {
    const config = parseDeploymentConfig(withMembers(['a@example.com', { email: 'b@example.com', slack: 'U0B' }, { slack: 'U0C' }]));
    expect(config.reviewerGroups.ops!.tiers[0]!.members.map(memberId)).toEqual(['a@example.com', 'b@example.com', 'slack:U0C']);
  });

  it('name the bad member by its path', () => {
    expect(() => parseDeploymentConfig(withMembers(['not-an-address']))).toThrow(/reviewerGroups\.ops\.tiers\.0\.members\.0: members must be email addresses or objects/);
    expect(() => parseDeploymentConfig(withMembers([{}]))).toThrow(/members\.0/);
    expect(() => parseDeploymentConfig(withMembers([{ slack: 'alice' }]))).toThrow(/members\.0/);
    expect(() => parseDeploymentConfig(withMembers([{ slack: 'U0C' }], { sender: 'hitl@example.com' }))).toThrow(/members\.0: a member with only a Slack id needs the top-level "slack" settings/);
  });

  it('take one identity once per group across channels', () => {
    const twice = { ...base, reviewerGroups: { ops: { tiers: [{ name: 'one', members: [{ email: 'a@example.com', slack: 'U0A' }] }, { name: 'two', members: ['a@example.com'] }] } } };
    expect(() => parseDeploymentConfig(twice)).toThrow(/tiers\.1\.members\.0: a@example\.com is also in tier 1/);
  });
});

describe('Slack text', () => {
  it('cannot mention, link or inject markup from agent text', () => {
    expect(escapeMrkdwn('<!channel> <https://evil.example|click> & co')).toBe('&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; co');
  });
});
