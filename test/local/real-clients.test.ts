/**
 * Clients that are not ours: awscli and boto3 against the local Step Functions and Scheduler APIs.
 * Each test is skipped, saying why, when its client is not installed (CI installs Debian's awscli and python3-boto3).
 */
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const run = promisify(execFile);
const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
const hasBoto3 = spawnSync('python3', ['-c', 'import boto3'], { stdio: 'ignore' }).status === 0;
if (!hasAws) console.warn('real-clients: skipping the awscli test: `aws` is not on PATH (apt-get install awscli)');
if (!hasBoto3) console.warn('real-clients: skipping the boto3 test: python3 cannot import boto3 (apt-get install python3-boto3)');

const input = JSON.stringify({
  kind: 'approval',
  agent: 'python-agent',
  action: { name: 'refund', args: { order_id: 'O-2468', amount_usd: 12 } },
  reason: 'late delivery',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'support-leads',
});

describe('real AWS clients against the local stack', () => {
  let stack: TestStack;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    stack = await startTestStack();
    // Only the endpoint flag or variable differs from talking to AWS.
    env = { ...process.env, AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    delete env.AWS_PROFILE;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  async function aws(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run('aws', [...args, '--output', 'json'], { env });
    return stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : {};
  }

  it.skipIf(!hasAws)('awscli: start-execution, describe-execution, get-execution-history, send-task-success errors, list-schedules', async () => {
    const sfn = ['--endpoint-url', stack.endpoints.sfn];
    const started = await aws('stepfunctions', 'start-execution', ...sfn, '--state-machine-arn', stack.stateMachineArn, '--name', 'from-awscli', '--input', input);
    expect(started.executionArn).toBe(`${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:from-awscli`);
    // awscli v1 prints timestamps as epoch seconds, v2 as ISO text.
    const startDate = typeof started.startDate === 'number' ? started.startDate * 1000 : Date.parse(String(started.startDate));
    expect(Math.abs(startDate - Date.now())).toBeLessThan(60_000);

    await stack.waitForReviewEmails(stack.requestIdOf(String(started.executionArn), input));
    const described = await aws('stepfunctions', 'describe-execution', ...sfn, '--execution-arn', String(started.executionArn));
    expect(described).toMatchObject({ status: 'RUNNING', name: 'from-awscli' });
    const history = await aws('stepfunctions', 'get-execution-history', ...sfn, '--execution-arn', String(started.executionArn));
    expect((history.events as { type: string }[]).map((e) => e.type)).toEqual(expect.arrayContaining(['ExecutionStarted', 'TaskScheduled', 'TaskSubmitted']));

    const failed = await run('aws', ['stepfunctions', 'send-task-success', ...sfn, '--task-token', 'made-up', '--task-output', '{}'], { env }).catch((e: { stderr: string; code: number }) => e);
    expect((failed as { stderr: string }).stderr).toContain('InvalidToken');

    const schedules = await aws('scheduler', 'list-schedules', '--endpoint-url', stack.endpoints.scheduler, '--group-name', stack.scheduleGroup!);
    expect((schedules.Schedules as unknown[]).length).toBeGreaterThanOrEqual(1);
  });

  it.skipIf(!hasBoto3)('boto3: start_execution and describe_execution; an unknown execution raises ExecutionDoesNotExist', async () => {
    const script = `
import boto3, json, sys
sfn = boto3.client("stepfunctions", endpoint_url=sys.argv[1], region_name="us-east-1")
out = sfn.start_execution(stateMachineArn=sys.argv[2], name="from-boto3", input=sys.argv[3])
described = sfn.describe_execution(executionArn=out["executionArn"])
try:
    sfn.describe_execution(executionArn=out["executionArn"] + "-missing")
    missing = "no error"
except sfn.exceptions.ExecutionDoesNotExist as err:
    missing = err.response["Error"]["Code"]
print(json.dumps({"arn": out["executionArn"], "status": described["status"], "missing": missing}))
`;
    const { stdout } = await run('python3', ['-c', script, stack.endpoints.sfn, stack.stateMachineArn, input], { env });
    const result = JSON.parse(stdout) as { arn: string; status: string; missing: string };
    expect(result.arn).toBe(`${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:from-boto3`);
    expect(result.status).toBe('RUNNING');
    expect(result.missing).toBe('ExecutionDoesNotExist');
  });
});
