/**
 * CDK app entry (cdk.json runs it with tsx). Context:
 *   hitl            the deployment config (cdk.json holds a sample)
 *   hitlConfigFile  a JSON file with the config instead, e.g. `-c hitlConfigFile=hitl.prod.json`
 *   hitlStackName   the stack name (default "Hitl"); it prefixes the state machine and schedule group names
 *   hitlDev         `-c hitlDev=true`: a throwaway stack whose tables, logs and secret go with it (config `dev`)
 * AWS Solutions checks (cdk-nag) run on every synth; an unacknowledged finding fails it.
 */
import { App } from 'aws-cdk-lib';
import { addComplianceChecks } from './compliance.ts';
import { readConfigSource } from './config.ts';
import { HitlStack } from './hitl-stack.ts';

const DEFAULT_STACK_NAME = 'Hitl';

const app = new App();
const { input, source } = readConfigSource(app.node);
const stackName: unknown = app.node.tryGetContext('hitlStackName') ?? DEFAULT_STACK_NAME;
if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,60}$/.test(stackName)) {
  throw new Error(`Context hitlStackName ${JSON.stringify(stackName)} is not a valid stack name; use letters, digits and dashes, starting with a letter`);
}
new HitlStack(app, stackName, {
  config: input,
  configSource: source,
  description: 'hitl: human review of AI agent actions (Step Functions task tokens, signed email links, decision log)',
});
addComplianceChecks(app);
app.synth();
