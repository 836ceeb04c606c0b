/** SES sending rights for review emails: only from the configured sender, only through its identities. */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';

/** The identities SES may authorize a send from `sender` against: the address itself and its domain. */
export function senderIdentityArns(scope: Construct, sender: string): string[] {
  const domain = sender.slice(sender.lastIndexOf('@') + 1);
  return [sender, domain].map((identity) =>
    Stack.of(scope).formatArn({ service: 'ses', resource: 'identity', resourceName: identity, arnFormat: ArnFormat.SLASH_RESOURCE_NAME }),
  );
}

export function grantSendEmailFrom(grantee: iam.IGrantable, scope: Construct, sender: string, actions: readonly string[] = ['ses:SendEmail', 'ses:SendRawEmail']): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: senderIdentityArns(scope, sender),
    conditions: { StringEquals: { 'ses:FromAddress': sender } },
  });
}
