/**
 * The Step Functions API over HTTP, JSON 1.0 protocol (`X-Amz-Target: AWSStepFunctions.<Operation>`), so the
 * SDKs, awscli and boto3 talk to the local engine as they would to AWS. Timestamps are epoch seconds. A call
 * that changes state is answered once the engine has it on disk.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { readBody, sendJson } from '../http.ts';
import type { ExecutionRecord, LocalStateMachine, SfnEngine } from './engine.ts';
import { SfnApiError } from './errors.ts';

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const TARGET_PREFIX = 'AWSStepFunctions.';

type Body = Record<string, unknown>;

function str(body: Body, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SfnApiError('ValidationException', `1 validation error detected: Value at '${key}' must be a string`);
  return value;
}

function num(body: Body, key: string): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw new SfnApiError('ValidationException', `1 validation error detected: Value at '${key}' must be a number`);
  return value;
}

const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function describe(r: ExecutionRecord): Body {
  return {
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: seconds(r.startDate),
    stopDate: seconds(r.stopDate),
    input: r.input,
    inputDetails: { included: true },
    output: r.output,
    outputDetails: r.output === undefined ? undefined : { included: true },
    error: r.error,
    cause: r.cause,
    redriveCount: 0,
    redriveStatus: 'NOT_REDRIVABLE',
  };
}

function listItem(r: ExecutionRecord): Body {
  return {
    executionArn: r.executionArn,
    stateMachineArn: r.stateMachineArn,
    name: r.name,
    status: r.status,
    startDate: seconds(r.startDate),
    stopDate: seconds(r.stopDate),
    redriveCount: 0,
  };
}

function machineSummary(sm: LocalStateMachine, created: number): Body {
  return { stateMachineArn: sm.arn, name: sm.name, type: 'STANDARD', creationDate: created / 1000 };
}

export function createSfnServer(engine: SfnEngine, createdAt = Date.now()): Server {
  const operations: Record<string, (body: Body) => Promise<Body> | Body> = {
    StartExecution: async (b) => {
      const out = engine.startExecution({ stateMachineArn: str(b, 'stateMachineArn'), name: str(b, 'name'), input: str(b, 'input') });
      await engine.durable();
      return { executionArn: out.executionArn, startDate: out.startDate / 1000 };
    },
    DescribeExecution: (b) => describe(engine.describeExecution(str(b, 'executionArn'))),
    ListExecutions: (b) => {
      const out = engine.listExecutions({
        stateMachineArn: str(b, 'stateMachineArn'),
        statusFilter: str(b, 'statusFilter'),
        maxResults: num(b, 'maxResults'),
        nextToken: str(b, 'nextToken'),
      });
      return { executions: out.executions.map(listItem), nextToken: out.nextToken };
    },
    GetExecutionHistory: (b) =>
      engine.getExecutionHistory({
        executionArn: str(b, 'executionArn'),
        maxResults: num(b, 'maxResults'),
        reverseOrder: b.reverseOrder === true,
        nextToken: str(b, 'nextToken'),
        includeExecutionData: b.includeExecutionData !== false,
      }),
    StopExecution: async (b) => {
      const out = await engine.stopExecution({ executionArn: str(b, 'executionArn'), error: str(b, 'error'), cause: str(b, 'cause') });
      await engine.durable();
      return { stopDate: out.stopDate / 1000 };
    },
    SendTaskSuccess: async (b) => {
      engine.sendTaskSuccess({ taskToken: str(b, 'taskToken'), output: str(b, 'output') });
      await engine.durable();
      return {};
    },
    SendTaskFailure: async (b) => {
      engine.sendTaskFailure({ taskToken: str(b, 'taskToken'), error: str(b, 'error'), cause: str(b, 'cause') });
      await engine.durable();
      return {};
    },
    SendTaskHeartbeat: (b) => {
      engine.sendTaskHeartbeat({ taskToken: str(b, 'taskToken') });
      return {};
    },
    DescribeStateMachine: (b) => {
      const sm = engine.describeStateMachine(str(b, 'stateMachineArn'));
      return { ...machineSummary(sm, createdAt), definition: JSON.stringify(sm.definition), roleArn: sm.roleArn, status: 'ACTIVE' };
    },
    ListStateMachines: () => ({ stateMachines: engine.listStateMachines().map((sm) => machineSummary(sm, createdAt)) }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || !target.startsWith(TARGET_PREFIX)) {
        throw new SfnApiError('UnknownOperationException', 'This is the local Step Functions API; POST with X-Amz-Target: AWSStepFunctions.<Operation>');
      }
      const operation = operations[target.slice(TARGET_PREFIX.length)];
      if (!operation) throw new SfnApiError('UnknownOperationException', `Operation ${target} is not supported by the local stack`);
      const raw = (await readBody(req)).toString('utf8');
      let body: Body;
      try {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Body);
      } catch {
        throw new SfnApiError('SerializationException', 'The request body is not valid JSON');
      }
      sendJson(res, 200, await operation(body), CONTENT_TYPE);
    } catch (err) {
      const error = err instanceof SfnApiError ? err : new SfnApiError('InternalFailure', err instanceof Error ? err.message : String(err));
      sendJson(res, error.status, { __type: error.type, message: error.message }, CONTENT_TYPE, { 'x-amzn-errortype': error.type });
    }
  }

  return createServer((req, res) => void handle(req, res));
}
