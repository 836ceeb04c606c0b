/** CDK app of the refund workflow example; `-c reviewStateMachineArn=…` names the deployed hitl review state machine. */
import { App } from 'aws-cdk-lib';
import { RefundWorkflowStack } from './stack.ts';

const app = new App();
const reviewStateMachineArn = app.node.tryGetContext('reviewStateMachineArn') as string | undefined;
if (!reviewStateMachineArn) throw new Error('Pass -c reviewStateMachineArn=<the hitl stack output StateMachineArn>');
new RefundWorkflowStack(app, 'RefundWorkflow', { reviewStateMachineArn });
app.synth();
