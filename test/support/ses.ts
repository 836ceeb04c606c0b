/**
 * aws-ses-v2-local for tests: a real SES API (v1 SendEmail, v2 SendEmail) on a free 127.0.0.1 port.
 *
 *   const ses = await startSes();
 *   process.env.AWS_ENDPOINT_URL_SES = ses.endpoint;   // or: new SESClient(ses.clientConfig)
 *   ...
 *   const [mail] = await ses.waitForEmails(1, { to: 'lead@example.com' });
 *   await ses.stop();
 *
 * The emulator runs in this process and keeps its mailbox in module state, so two emulators started in
 * one test file share one mailbox: start one per file. Emails are read back over its HTTP API (`GET /store`),
 * the same way a person's mail viewer does.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { SESClient, type SESClientConfig } from '@aws-sdk/client-ses';

export interface StoredEmail {
  messageId: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html?: string;
  text?: string;
  /** Epoch seconds when the emulator accepted it. */
  at: number;
}

export interface SesEmulator {
  /** e.g. `http://127.0.0.1:40123`: the SES endpoint and, in a browser, the mail viewer. */
  endpoint: string;
  /** Config for an SDK client pointed at the emulator (dummy credentials, us-east-1). */
  clientConfig: SESClientConfig;
  /** A v1 SES client for the emulator. */
  client(): SESClient;
  /** Every stored email, oldest first. */
  emails(): Promise<StoredEmail[]>;
  /** Polls until at least `count` emails match (`to` names a recipient); throws after `timeoutMs` (default 10 s). */
  waitForEmails(count: number, filter?: { to?: string; timeoutMs?: number }): Promise<StoredEmail[]>;
  /** Empty the mailbox. */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

interface StoreResponse {
  emails: {
    messageId: string;
    from: string;
    destination: { to: string[]; cc: string[]; bcc: string[] };
    subject: string;
    body: { html?: string; text?: string };
    at: number;
  }[];
}

type StartServer = (config?: { host?: string; port?: number }) => Promise<Server>;

async function loadServer(): Promise<StartServer> {
  // A CommonJS module: depending on the loader, its function is `default` or `default.default`.
  const mod = (await import('aws-ses-v2-local')) as unknown as { default: StartServer | { default: StartServer } };
  return typeof mod.default === 'function' ? mod.default : mod.default.default;
}

export async function startSes(): Promise<SesEmulator> {
  const start = await loadServer();
  const server = await start({ host: '127.0.0.1', port: 0 });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const clientConfig: SESClientConfig = {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  const clients: SESClient[] = [];

  async function emails(): Promise<StoredEmail[]> {
    const res = await fetch(`${endpoint}/store`);
    if (!res.ok) throw new Error(`aws-ses-v2-local GET /store answered ${res.status}`);
    const store = (await res.json()) as StoreResponse;
    return store.emails.map((e) => ({
      messageId: e.messageId,
      from: e.from,
      to: e.destination.to,
      cc: e.destination.cc,
      bcc: e.destination.bcc,
      subject: e.subject,
      html: e.body.html,
      text: e.body.text,
      at: e.at,
    }));
  }

  return {
    endpoint,
    clientConfig,
    client() {
      const client = new SESClient(clientConfig);
      clients.push(client);
      return client;
    },
    emails,
    async waitForEmails(count, filter = {}) {
      const deadline = Date.now() + (filter.timeoutMs ?? 10_000);
      for (;;) {
        const all = await emails();
        const matching = filter.to === undefined ? all : all.filter((e) => e.to.includes(filter.to as string));
        if (matching.length >= count) return matching;
        if (Date.now() > deadline) {
          throw new Error(`Expected ${count} email(s)${filter.to ? ` to ${filter.to}` : ''}, found ${matching.length}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async clear() {
      const res = await fetch(`${endpoint}/clear-store`, { method: 'POST' });
      if (!res.ok) throw new Error(`aws-ses-v2-local POST /clear-store answered ${res.status}`);
    },
    async stop() {
      for (const client of clients) client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
