/**
 * AWS Solutions checks (cdk-nag) run at every synth: an unacknowledged finding fails `cdk synth`.
 * Deliberate exceptions are acknowledged next to the resource that causes them, with the reason.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function addComplianceChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
