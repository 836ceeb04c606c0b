/** The Slack Web API calls over fetch: JSON with the bot token, Slack's errors surfaced, rate limits and 5xx retried. */
import { describe, expect, it } from 'vitest';
import { SlackApi, SlackApiError } from '#shared/channels/slack-api.ts';

function fakeFetch(answers: (() => Response)[]) {
  const calls: { url: string; init: RequestInit }[] = [];
  const fetch = ((url: URL, init: RequestInit) => {
    calls.push({ url: String(url), init });
    return Promise.resolve(answers[Math.min(calls.length - 1, answers.length - 1)]!());
  }) as unknown as typeof globalThis.fetch;
  return { fetch, calls };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const sleeps: number[] = [];
const sleep = (ms: number) => {
  sleeps.push(ms);
  return Promise.resolve();
};

describe('SlackApi', () => {
  it('posts JSON with the bot token to <apiUrl><method> and returns the answer', async () => {
    const { fetch, calls } = fakeFetch([json({ ok: true, channel: 'C1', ts: '1.2' })]);
    const api = new SlackApi('xoxb-1', { apiUrl: 'http://127.0.0.1:9/api', fetch, sleep });
    const out = await api.chat.postMessage({ channel: 'C1', text: 'hi' });
    expect(out).toMatchObject({ ok: true, channel: 'C1', ts: '1.2' });
    expect(calls[0]!.url).toBe('http://127.0.0.1:9/api/chat.postMessage');
    expect(calls[0]!.init.headers).toMatchObject({ authorization: 'Bearer xoxb-1', 'content-type': 'application/json; charset=utf-8' });
    expect(JSON.parse(calls[0]!.init.body as string)).toEqual({ channel: 'C1', text: 'hi' });
  });

  it("throws Slack's error code when ok is false, without retrying", async () => {
    const { fetch, calls } = fakeFetch([json({ ok: false, error: 'channel_not_found' })]);
    const api = new SlackApi('t', { apiUrl: 'https://slack.com/api/', fetch, sleep });
    const err = await api.chat.update({ channel: 'C1', ts: '1', text: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SlackApiError);
    expect(err).toMatchObject({ method: 'chat.update', code: 'channel_not_found' });
    expect(calls).toHaveLength(1);
  });

  it('retries a 429 after its Retry-After and a 5xx, then gives the answer', async () => {
    sleeps.length = 0;
    const { fetch, calls } = fakeFetch([json({ ok: false, error: 'ratelimited' }, 429, { 'retry-after': '3' }), json({}, 503), json({ ok: true })]);
    const api = new SlackApi('t', { apiUrl: 'https://slack.com/api/', fetch, sleep });
    await expect(api.views.open({ trigger_id: 'x', view: { type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] } })).resolves.toMatchObject({ ok: true });
    expect(calls).toHaveLength(3);
    expect(sleeps).toEqual([3000, 1000]);
  });

  it('gives up after two retries', async () => {
    const { fetch, calls } = fakeFetch([json({}, 502)]);
    const api = new SlackApi('t', { apiUrl: 'https://slack.com/api/', fetch, sleep });
    await expect(api.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'x' })).rejects.toMatchObject({ code: 'HTTP 502' });
    expect(calls).toHaveLength(3);
  });
});
