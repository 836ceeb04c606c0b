/**
 * Single use of the web inbox's sign-in links: a marker item per used link in the requests table, under its
 * own key prefix (`inbox-link#<nonce>`; request ids are `r` + hex), written with a condition so only the
 * first use succeeds. The table's TTL attribute purges each marker a day after its link expired. The table
 * rather than a new one: the respond function already holds its grants, and a marker is one small item.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isConditionFailure, type RequestStore } from './requests.ts';

const LINK_PREFIX = 'inbox-link#';

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

  /** Whether the link was used already: for the page a GET shows; only `use` decides. */
  async used(nonce: string): Promise<boolean> {
    const out = await this.requests.doc.send(new GetCommand({ TableName: this.requests.tableName, Key: { requestId: `${LINK_PREFIX}${nonce}` }, ConsistentRead: true }));
    return out.Item !== undefined;
  }
}
