/**
 * Prepares a state machine definition for aws-local-stepfunctions so it behaves as Step Functions does:
 * task timeouts default to "as long as the execution" (the library's default is 60 seconds), timers stay
 * within what Node can schedule, and each Task state is classified by the integration it uses.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Node timers overflow past 2^31-1 ms (about 24.8 days); longer waits are clamped to this. */
export const MAX_TIMER_SECONDS = Math.floor(0x7fffffff / 1000);

export const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
export const LAMBDA_INVOKE_CALLBACK = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** Nested executions: start one (`startExecution`), or start it and wait (`.sync`: Output as text, `.sync:2`: as JSON). */
export const START_EXECUTION = 'arn:aws:states:::states:startExecution';
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:[^:]+(:[^:]+)?$/;

/**
 * How a Task state calls out: `function` is a Lambda ARN as the Resource (the payload is the state input);
 * `invoke` is the optimized `lambda:invoke` integration; `callback` is `lambda:invoke.waitForTaskToken`;
 * `execution` is `states:startExecution[.sync|.sync:2]`, a nested execution of another state machine.
 */
export type TaskKind = 'function' | 'invoke' | 'callback' | 'execution' | 'unsupported';

/** How a nested execution's task waits: not at all, or for its end with the Output as text (`sync`) or JSON (`sync:2`). */
export type ExecutionWait = 'none' | 'sync' | 'sync:2';

export interface TaskInfo {
  name: string;
  kind: TaskKind;
  resource: string;
  /** For `execution` tasks. */
  wait?: ExecutionWait;
  heartbeatSeconds?: number;
  timeoutSeconds?: number;
}

export interface PreparedDefinition {
  definition: JsonObject;
  tasks: Map<string, TaskInfo>;
  /** Names of states that have a Retry field, for the retry-interval override. */
  retryStates: string[];
}

export function taskKind(resource: string): TaskKind {
  if (resource === LAMBDA_INVOKE) return 'invoke';
  if (resource === LAMBDA_INVOKE_CALLBACK) return 'callback';
  if (executionWait(resource) !== undefined) return 'execution';
  if (FUNCTION_ARN.test(resource)) return 'function';
  return 'unsupported';
}

export function executionWait(resource: string): ExecutionWait | undefined {
  if (resource === START_EXECUTION) return 'none';
  if (resource === `${START_EXECUTION}.sync`) return 'sync';
  if (resource === `${START_EXECUTION}.sync:2`) return 'sync:2';
  return undefined;
}

/** Context paths that must keep their AWS meaning when an execution is replayed after a restart. */
export const START_TIME_PATH = '$$.Execution.StartTime';
export const LOCAL_START_TIME_PATH = '$$.Execution.LocalStartTime';

function rewritePaths(value: Json, key?: string): Json {
  if (typeof value === 'string') return key?.endsWith('.$') ? value.replaceAll(START_TIME_PATH, () => LOCAL_START_TIME_PATH) : value;
  if (Array.isArray(value)) return value.map((v) => rewritePaths(v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewritePaths(v, k)]));
  }
  return value;
}

function clampTimeout(state: JsonObject, field: 'TimeoutSeconds' | 'HeartbeatSeconds'): void {
  const value = state[field];
  if (typeof value === 'number' && value > MAX_TIMER_SECONDS) state[field] = MAX_TIMER_SECONDS;
}

function prepareStates(machine: JsonObject, out: PreparedDefinition): void {
  const states = machine.States as Record<string, JsonObject> | undefined;
  if (!states) return;
  for (const [name, state] of Object.entries(states)) {
    if (Array.isArray(state.Retry)) out.retryStates.push(name);
    switch (state.Type) {
      case 'Task': {
        const resource = String(state.Resource);
        // Step Functions lets a task run as long as the execution; the library would stop it after 60 s.
        if (state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = MAX_TIMER_SECONDS;
        clampTimeout(state, 'TimeoutSeconds');
        clampTimeout(state, 'HeartbeatSeconds');
        out.tasks.set(name, {
          name,
          kind: taskKind(resource),
          resource,
          wait: executionWait(resource),
          heartbeatSeconds: typeof state.HeartbeatSeconds === 'number' ? state.HeartbeatSeconds : undefined,
          timeoutSeconds: typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined,
        });
        break;
      }
      case 'Parallel':
        for (const branch of (state.Branches as JsonObject[] | undefined) ?? []) prepareStates(branch, out);
        break;
      case 'Map': {
        const inner = (state.ItemProcessor ?? state.Iterator) as JsonObject | undefined;
        if (inner) prepareStates(inner, out);
        break;
      }
      default:
        break;
    }
  }
}

export function prepareDefinition(source: JsonObject): PreparedDefinition {
  const definition = rewritePaths(structuredClone(source)) as JsonObject;
  clampTimeout(definition, 'TimeoutSeconds');
  const out: PreparedDefinition = { definition, tasks: new Map(), retryStates: [] };
  prepareStates(definition, out);
  return out;
}
