/**
 * Slack stand-in: the Web API methods hitl calls (chat.postMessage, chat.update, chat.postEphemeral,
 * views.open), answered as Slack answers them, with every call recorded. `GET /calls` and `GET /messages`
 * show what was posted (tests read them; so can a person). The app's credentials live in a file under the
 * state directory, generated on first start, served to the functions by the local Secrets Manager; the test
 * client (slack-client.ts) signs interaction payloads with the same signing secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readBody, sendJson } from './http.ts';
import { readJsonFile, writeJsonFile, type Warn } from './json-file.ts';

export interface SlackCredentials {
  botToken: string;
  signingSecret: string;
}

/** The Slack app's secret for the local stack, `{"botToken":"xoxb-local-…","signingSecret":"…"}`; made once, kept across restarts. */
export function ensureSlackCredentials(file: string, warn: Warn): SlackCredentials {
  if (existsSync(file)) {
    const current = readJsonFile<Partial<SlackCredentials> | undefined>(file, undefined, warn);
    if (current?.botToken && current.signingSecret) return current as SlackCredentials;
  }
  const created = { botToken: `xoxb-local-${randomBytes(12).toString('hex')}`, signingSecret: randomBytes(32).toString('hex') };
  writeJsonFile(file, created);
  return created;
}

export interface SlackCall {
  method: string;
  /** The arguments as sent (form fields; `blocks`, `view` and the like decoded from JSON). */
  args: Record<string, unknown>;
  at: string;
}

export interface SlackStoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  /** How many times chat.update replaced it. */
  updates: number;
}

export interface LocalSlack {
  server: Server;
  calls(method?: string): SlackCall[];
  messages(): SlackStoredMessage[];
  /** Make the next calls of a method fail as Slack does (e.g. `channel_not_found`); 0 stops. */
  failNext(method: string, error: string, times?: number): void;
}

const JSON_FIELDS = new Set(['blocks', 'attachments', 'view', 'metadata']);

function decodeArgs(req: IncomingMessage, raw: string): Record<string, unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (type.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    if (JSON_FIELDS.has(key)) {
      try {
        args[key] = JSON.parse(value);
        continue;
      } catch {
        // Slack refuses it too; keep what came.
      }
    }
    args[key] = value;
  }
  return args;
}

export function createSlackServer(credentials: SlackCredentials): LocalSlack {
  const calls: SlackCall[] = [];
  const messages = new Map<string, SlackStoredMessage>();
  const failures = new Map<string, { error: string; times: number }>();
  let clock = 0;
  const nextTs = () => {
    clock = Math.max(clock + 1, Date.now() * 1000);
    return `${Math.floor(clock / 1e6)}.${String(clock % 1e6).padStart(6, '0')}`;
  };
  const key = (channel: unknown, ts: unknown) => `${String(channel)}/${String(ts)}`;

  const methods: Record<string, (args: Record<string, unknown>) => Record<string, unknown>> = {
    'chat.postMessage': (args) => {
      if (typeof args.channel !== 'string' || !args.channel) return { ok: false, error: 'channel_not_found' };
      if (!args.text && !args.blocks) return { ok: false, error: 'no_text' };
      const message: SlackStoredMessage = { channel: args.channel, ts: nextTs(), text: args.text as string, blocks: args.blocks as unknown[], updates: 0 };
      messages.set(key(message.channel, message.ts), message);
      return { ok: true, channel: message.channel, ts: message.ts, message: { type: 'message', text: message.text, blocks: message.blocks, ts: message.ts } };
    },
    'chat.update': (args) => {
      const message = messages.get(key(args.channel, args.ts));
      if (!message) return { ok: false, error: 'message_not_found' };
      message.text = args.text as string;
      message.blocks = args.blocks as unknown[];
      message.updates++;
      return { ok: true, channel: message.channel, ts: message.ts, text: message.text };
    },
    'chat.postEphemeral': (args) => {
      if (typeof args.channel !== 'string' || typeof args.user !== 'string') return { ok: false, error: 'invalid_arguments' };
      return { ok: true, message_ts: nextTs() };
    },
    'views.open': (args) => {
      if (typeof args.trigger_id !== 'string' || !args.trigger_id) return { ok: false, error: 'invalid_trigger_id' };
      const view = args.view as Record<string, unknown> | undefined;
      if (view?.type !== 'modal') return { ok: false, error: 'invalid_arguments' };
      return { ok: true, view: { id: `V${randomBytes(5).toString('hex').toUpperCase()}`, ...view } };
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/calls') return sendJson(res, 200, { calls });
    if (req.method === 'GET' && url.pathname === '/messages') return sendJson(res, 200, { messages: [...messages.values()] });
    const method = url.pathname.replace(/^\/api\//, '');
    const operation = methods[method];
    if (req.method !== 'POST' || !url.pathname.startsWith('/api/') || !operation) return sendJson(res, 404, { ok: false, error: 'unknown_method' });
    const raw = (await readBody(req)).toString('utf8');
    const args = decodeArgs(req, raw);
    const bearer = String(req.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    if ((bearer || args.token) !== credentials.botToken) return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    const { token: _token, ...recorded } = args;
    calls.push({ method, args: recorded, at: new Date().toISOString() });
    const failure = failures.get(method);
    if (failure && failure.times > 0) {
      failure.times--;
      return sendJson(res, 200, { ok: false, error: failure.error });
    }
    sendJson(res, 200, operation(recorded));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => sendJson(res, 500, { ok: false, error: 'internal_error', detail: (err as Error).message }));
  });
  return {
    server,
    calls: (method) => (method ? calls.filter((c) => c.method === method) : [...calls]),
    messages: () => [...messages.values()].map((m) => structuredClone(m)),
    failNext: (method, error, times = 1) => void failures.set(method, { error, times }),
  };
}
