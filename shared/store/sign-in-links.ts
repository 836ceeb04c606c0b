/**
 * Single use of the web inbox's sign-in links: a marker item per used link in the requests table, under its
 * own key prefix (`inbox-link#<nonce>`; request ids are `r` + hex), written with a condition so only the
 * first use succeeds; and a per-address send cooldown (`inbox-mail#<sha256>`). The table's TTL attribute purges each marker a day after its link expired. The table
 * rather than a new one: the respond function already holds its grants, and a marker is one small item.
 */
import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, type RequestStore } from './requests.ts';

const LINK_PREFIX = 'inbox-link#';
const MAIL_PREFIX = 'inbox-mail#';

export class SignInLinks {
  constructor(readonly requests: RequestStore) {}

  /** Mark the link's nonce used: true for the first use only. */
  async use(nonce: string, approver: string, at: Date, linkExpiresAt: number): Promise<boolean> {
    try {
      await this.requests.doc.send(
        new UpdateCommand({
          TableName: this.requests.tableName,
          Key: { requestId: `${LINK_PREFIX}${nonce}` },
          UpdateExpression: 'SET usedAt = :at, usedBy = :by, purgeAt = :purge',
          ConditionExpression: 'attribute_not_exists(requestId)',
          ExpressionAttributeValues: { ':at': at.toISOString(), ':by': approver, ':purge': linkExpiresAt + 86_400 },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /**
   * Claim the right to email a sign-in link to this address now: at most one per `cooldownSeconds`, so the
   * form cannot be used to flood a reviewer's mailbox. Keyed by a hash of the address, purged after a day.
   */
  async mayEmail(address: string, at: Date, cooldownSeconds: number): Promise<boolean> {
    const key = createHash('sha256').update(address.toLowerCase(), 'utf8').digest('hex');
    const now = Math.floor(at.getTime() / 1000);
    try {
      await this.requests.doc.send(
        new UpdateCommand({
          TableName: this.requests.tableName,
          Key: { requestId: `${MAIL_PREFIX}${key}` },
          UpdateExpression: 'SET sentAt = :now, purgeAt = :purge',
          ConditionExpression: 'attribute_not_exists(requestId) OR sentAt <= :cutoff',
          ExpressionAttributeValues: { ':now': now, ':cutoff': now - cooldownSeconds, ':purge': now + 86_400 },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Whether the link was used already: for the page a GET shows; only `use` decides. */
  async used(nonce: string): Promise<boolean> {
    const out = await this.requests.doc.send(new GetCommand({ TableName: this.requests.tableName, Key: { requestId: `${LINK_PREFIX}${nonce}` }, ConsistentRead: true }));
    return out.Item !== undefined;
  }
}
