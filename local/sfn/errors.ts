/** Errors of the Step Functions API, named as AWS names them so SDKs raise the same exception classes. */
export type SfnErrorType =
  | 'ValidationException'
  | 'InvalidArn'
  | 'InvalidName'
  | 'InvalidExecutionInput'
  | 'InvalidOutput'
  | 'InvalidToken'
  | 'ExecutionDoesNotExist'
  | 'ExecutionAlreadyExists'
  | 'StateMachineDoesNotExist'
  | 'TaskDoesNotExist'
  | 'TaskTimedOut'
  | 'UnknownOperationException'
  | 'SerializationException'
  | 'InternalFailure';

export class SfnApiError extends Error {
  readonly type: SfnErrorType;
  readonly status: number;

  constructor(type: SfnErrorType, message: string) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = type === 'InternalFailure' ? 500 : 400;
  }
}

/**
 * An error raised inside a running execution (a task's failure, a callback's SendTaskFailure). Retry and
 * Catch match its `name`; its message is the Cause text.
 */
export class StatesError extends Error {
  constructor(name: string, cause: string) {
    super(cause);
    this.name = name;
  }
}
