import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { backstopSeconds } from '#shared/policies/backstop.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { HANDLER_ENTRIES } from '#infra/constructs/review-functions.ts';
import { LAMBDA_SERVICE_ERRORS } from '#infra/constructs/review-state-machine.ts';
import { PLACEHOLDER, stateMachineDefinition, synthTemplate, TEST_CONFIG, type AslDefinition } from '../support/synth.ts';

// asl-validator ships no type declarations.
const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

let definition: AslDefinition;
let functionArn: Record<keyof typeof HANDLER_ENTRIES, string>;

beforeAll(() => {
  const template = synthTemplate();
  definition = stateMachineDefinition(template);
  const arnOf = (entry: string) => {
    const [id] = Object.keys(template.findResources('AWS::Lambda::Function', { Metadata: { 'hitl:handler': entry } }));
    return `arn:${PLACEHOLDER.partition}:lambda:${PLACEHOLDER.region}:${PLACEHOLDER.account}:function:${id}`;
  };
  functionArn = Object.fromEntries(Object.entries(HANDLER_ENTRIES).map(([name, entry]) => [name, arnOf(entry)])) as typeof functionArn;
});

const serviceRetry = [{ ErrorEquals: [...LAMBDA_SERVICE_ERRORS], IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' }];

describe('state machine definition', () => {
  it('is valid Amazon States Language', () => {
    const { isValid, errorsText } = aslValidator(definition);
    expect(errorsText('\n')).toBe('');
    expect(isValid).toBe(true);
  });

  it('uses JSONPath and starts with Route, which passes the input and the execution identity', () => {
    expect(definition.QueryLanguage).toBe('JSONPath');
    expect(definition.StartAt).toBe('Route');
    expect(definition.States.Route).toMatchObject({
      Type: 'Task',
      Resource: functionArn.route,
      Parameters: { 'input.$': '$', 'executionArn.$': '$$.Execution.Id', 'startedAt.$': '$$.Execution.StartTime' },
      Retry: serviceRetry,
      Next: 'Routed?',
    });
    // Invalid and duplicate requests fail the execution under their own error names.
    expect(definition.States.Route).not.toHaveProperty('Catch');
  });

  it('branches on $.route: a policy decision is the output, a review goes to HumanReview', () => {
    expect(definition.States['Routed?']).toMatchObject({
      Type: 'Choice',
      Choices: [
        { Variable: '$.route', StringEquals: 'decided', Next: 'AutoDecided' },
        { Variable: '$.route', StringEquals: 'review', Next: 'HumanReview' },
      ],
    });
    expect(definition.States.AutoDecided).toMatchObject({ Type: 'Pass', OutputPath: '$.decision', End: true });
    // No Succeed state after it: every state entered is a billed transition.
    expect(Object.values(definition.States).filter((s) => (s as { Type: string }).Type === 'Succeed')).toEqual([]);
  });

  it('waits for a person on a task token, settles on the stored Decision, times out at the backstop and falls back to the expire function', () => {
    const review = definition.States.HumanReview;
    expect(review).toMatchObject({
      Type: 'Task',
      Resource: `arn:${PLACEHOLDER.partition}:states:::lambda:invoke.waitForTaskToken`,
      Parameters: {
        FunctionName: functionArn.request,
        Payload: { 'requestId.$': '$.requestId', 'request.$': '$.request', 'taskToken.$': '$$.Task.Token', 'executionArn.$': '$$.Execution.Id' },
      },
      TimeoutSeconds: backstopSeconds(parseDeploymentConfig(TEST_CONFIG)),
      Retry: serviceRetry,
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'Backstop' }],
      ResultPath: '$.review',
      Next: 'Settle',
    });
    // The SendTaskSuccess payload is only a claim: Settle's output (the stored Decision) is the execution output.
    expect(definition.States.Settle).toMatchObject({
      Type: 'Task',
      Resource: functionArn.settle,
      Parameters: { action: 'settle', 'requestId.$': '$.requestId', 'executionArn.$': '$$.Execution.Id', 'review.$': '$.review' },
      Retry: serviceRetry,
      End: true,
    });
    for (const key of ['ResultPath', 'ResultSelector', 'OutputPath', 'Catch']) expect(definition.States.Settle).not.toHaveProperty(key);
    expect(definition.States.Backstop).toMatchObject({
      Type: 'Task',
      Resource: functionArn.expire,
      Parameters: { action: 'backstop', 'requestId.$': '$.requestId' },
      Retry: serviceRetry,
      End: true,
    });
  });
});
