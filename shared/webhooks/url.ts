/**
 * Whether a request's `notify.url` may be called: a claim of the agent's, checked against the deployment's
 * `webhooks` settings at admission and again before each delivery (a host removed from the list since is
 * no longer called).
 */
import type { Webhooks } from '../schemas/config.ts';
import { isLoopbackHost } from './addresses.ts';

/** Why the URL may not be called, or undefined when it may. */
export function webhookUrlIssue(raw: string, webhooks: Pick<Webhooks, 'allowedHosts'>): string | undefined {
  if (webhooks.allowedHosts.length === 0) return 'webhooks are off in this deployment (its webhooks.allowedHosts is empty); leave notify out';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  if (url.username || url.password) return 'must not carry a user name or password';
  const host = url.hostname.toLowerCase();
  if (!webhooks.allowedHosts.includes(host)) {
    return `host "${host}" is not in this deployment's webhooks.allowedHosts (${webhooks.allowedHosts.join(', ')})`;
  }
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(host)) return undefined;
  return `use https (plain http only for a loopback host such as 127.0.0.1)`;
}
