/**
 * SES on aws-ses-v2-local, in this process: its web page is the mail viewer. Its store lives in memory, so
 * the stack saves the emails to the state directory and loads them back on start: links in the inbox
 * survive a restart, as they would in a real mailbox.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
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

export interface LocalSes {
  server: Server;
  /** Write the emails to the mail file now (also done shortly after each new email). */
  save(): void;
  stop(): void;
}

/**
 * Start the SES server on 127.0.0.1. The store is shared by the whole process, so it is replaced with this
 * state directory's saved emails: one local stack per process at a time.
 */
export async function startSes(port: number, mailFile: string | undefined): Promise<LocalSes> {
  store.clearStore();
  if (mailFile && existsSync(mailFile)) {
    for (const line of readFileSync(mailFile, 'utf8').split('\n')) if (line.trim()) store.saveEmail(JSON.parse(line) as StoredEmail);
  }
  const server = await startServer({ host: LOCAL_HOST, port });
  let saved = store.getStoreReadonly().emails.length;
  // Emails only ever arrive (appended) or are all cleared (the viewer's clear button: rewritten).
  const save = () => {
    const emails = store.getStoreReadonly().emails;
    if (!mailFile || emails.length === saved) return;
    const lines = (list: readonly StoredEmail[]) => list.map((e) => `${JSON.stringify(e)}\n`).join('');
    if (emails.length > saved) appendFileSync(mailFile, lines(emails.slice(saved)));
    else writeFileSync(mailFile, lines(emails));
    saved = emails.length;
  };
  const timer = setInterval(save, 250);
  timer.unref();
  return {
    server,
    save,
    stop: () => {
      clearInterval(timer);
      save();
    },
  };
}
