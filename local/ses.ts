/**
 * SES on aws-ses-v2-local, in this process: its web page is the mail viewer. Its store lives in memory, so
 * the stack appends each email to the state directory's mail file as it is stored, before SES answers, and
 * loads them back on start: links in the inbox survive a restart, as they would in a real mailbox.
 */
import { createRequire } from 'node:module';
import type { Server, ServerResponse } from 'node:http';
import type { Warn } from './json-file.ts';
import { Journal } from './journal.ts';
import { LOCAL_HOST } from './http.ts';

const require = createRequire(import.meta.url);

export interface StoredEmail {
  messageId: string;
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  at: number;
  [other: string]: unknown;
}

interface SesStore {
  saveEmail(email: StoredEmail): void;
  clearStore(): void;
  getStoreReadonly(): { emails: StoredEmail[] };
}

const startServer = (require('aws-ses-v2-local') as { default: (config: { host: string; port: number }) => Promise<Server> }).default;
const store = require('aws-ses-v2-local/dist/store.js') as SesStore;

/** The SES handlers call the store through its exports; these put the mail file in their path. */
const saveInMemory = store.saveEmail;
const clearInMemory = store.clearStore;
let mailJournal: Journal<StoredEmail> | undefined;
store.saveEmail = (email) => {
  mailJournal?.append(email);
  saveInMemory(email);
};
store.clearStore = () => {
  clearInMemory();
  mailJournal?.rewrite([]);
};

export interface LocalSes {
  server: Server;
  stop(): void;
}

export interface SesOptions {
  /** Wait for the disk (fsync) before SES answers, not only for the OS. */
  fsync?: boolean;
  warn?: Warn;
}

/**
 * Start the SES server on 127.0.0.1. The store is shared by the whole process, so it is replaced with this
 * state directory's saved emails: one local stack per process at a time.
 */
export async function startSes(port: number, mailFile: string | undefined, options: SesOptions = {}): Promise<LocalSes> {
  mailJournal?.close();
  mailJournal = undefined;
  clearInMemory();
  const journal = mailFile ? new Journal<StoredEmail>(mailFile, { fsync: options.fsync, warn: options.warn ?? (() => undefined) }) : undefined;
  for (const email of journal?.read() ?? []) saveInMemory(email);
  mailJournal = journal;
  const server = await startServer({ host: LOCAL_HOST, port });
  if (journal && options.fsync) {
    // The SES handlers answer right after storing; with fsync the answer waits until the email is on disk.
    server.prependListener('request', (_req, res: ServerResponse) => {
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      res.end = ((...args: unknown[]) => {
        if (!journal.pending) return end(...args);
        journal.durable().then(
          () => end(...args),
          () => res.destroy(),
        );
        return res;
      }) as typeof res.end;
    });
  }
  return {
    server,
    stop: () => {
      if (mailJournal === journal) mailJournal = undefined;
      journal?.close();
    },
  };
}
