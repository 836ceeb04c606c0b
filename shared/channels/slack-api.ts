/**
 * The four Slack Web API methods the Slack channel calls, over fetch. @slack/web-api's WebClient does the same
 * and more, but bundles axios and its own dependency tree into every function that can reach a reviewer
 * (about 130 KB minified each); these calls are one JSON POST each (https://api.slack.com/web#posting_json).
 * Retries a rate limit (429, after its Retry-After) and a 5xx or network failure, twice.
 */
import type { ChatPostEphemeralArguments, ChatPostMessageArguments, ChatUpdateArguments, ViewsOpenArguments } from '@slack/web-api';

export class SlackApiError extends Error {
  override readonly name = 'SlackApiError';
  constructor(
    readonly method: string,
    /** Slack's `error` code, e.g. "channel_not_found", or the HTTP status when there was none. */
    readonly code: string,
  ) {
    super(`Slack ${method} failed: ${code}`);
  }
}

interface SlackResponse {
  ok: boolean;
  error?: string;
  channel?: string;
  ts?: string;
}

export interface SlackApiOptions {
  /** Base URL of the Web API, ending in `/` (Slack's, or a stand-in's). */
  apiUrl: string;
  retries?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export class SlackApi {
  private readonly retries: number;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  readonly chat = {
    postMessage: (args: ChatPostMessageArguments) => this.call('chat.postMessage', args),
    update: (args: ChatUpdateArguments) => this.call('chat.update', args),
    postEphemeral: (args: ChatPostEphemeralArguments) => this.call('chat.postEphemeral', args),
  };

  readonly views = {
    open: (args: ViewsOpenArguments) => this.call('views.open', args),
  };

  constructor(
    private readonly token: string,
    private readonly options: SlackApiOptions,
  ) {
    this.retries = options.retries ?? 2;
    this.fetch = options.fetch ?? fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  private async call(method: string, args: object): Promise<SlackResponse> {
    const url = new URL(method, this.options.apiUrl.endsWith('/') ? this.options.apiUrl : `${this.options.apiUrl}/`);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify(args),
          signal: AbortSignal.timeout(10_000),
        });
      } catch (err) {
        if (attempt < this.retries) {
          await this.sleep(500 * 2 ** attempt);
          continue;
        }
        throw err;
      }
      if ((res.status === 429 || res.status >= 500) && attempt < this.retries) {
        const after = Number(res.headers.get('retry-after'));
        await res.body?.cancel();
        await this.sleep(Number.isFinite(after) && after > 0 ? Math.min(after, 30) * 1000 : 500 * 2 ** attempt);
        continue;
      }
      const body = (await res.json().catch(() => undefined)) as SlackResponse | undefined;
      if (!body) throw new SlackApiError(method, `HTTP ${res.status}`);
      if (!body.ok) throw new SlackApiError(method, body.error ?? `HTTP ${res.status}`);
      return body;
    }
  }
}
