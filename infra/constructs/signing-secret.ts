/**
 * The HMAC key ring for review links, generated at deploy time as `{"current":"k1","k1":"<64 chars>"}`.
 * Rotation is manual: add `k2`, point `current` at it, and drop `k1` once links signed with it have expired.
 */
import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export const FIRST_KEY_ID = 'k1';

export interface SigningSecretProps {
  /**
   * Length of the generated key, in characters of [A-Za-z0-9].
   * @default 64
   */
  readonly keyLength?: number;
  /**
   * What happens to the secret when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class SigningSecret extends Construct {
  readonly secret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: SigningSecretProps = {}) {
    super(scope, id);
    const keyLength = props.keyLength ?? 64;
    if (!Number.isInteger(keyLength) || keyLength < 32 || keyLength > 4096) {
      throw new Error(`SigningSecret ${id}: keyLength ${keyLength} is out of range; use a whole number from 32 to 4096 (64 is plenty)`);
    }
    this.secret = new secretsmanager.Secret(this, 'Secret', {
      description: 'HMAC keys for signed review links: {"current": <key id>, <key id>: <key>}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ current: FIRST_KEY_ID }),
        generateStringKey: FIRST_KEY_ID,
        passwordLength: keyLength,
        excludePunctuation: true,
        includeSpace: false,
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    Validations.of(this.secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Link-signing keys rotate by hand (add a key id, switch "current", retire the old key after the longest TTL) so links already in inboxes keep verifying; a Lambda rotator would replace the whole value and break them.',
    });
  }

  /** GetSecretValue (and DescribeSecret) on this secret only. */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return this.secret.grantRead(grantee);
  }
}
