/** Execution history in the shape GetExecutionHistory returns (HistoryEvent), built as an execution runs. */
export interface HistoryEvent {
  id: number;
  previousEventId: number;
  /** Epoch milliseconds; the API answers in epoch seconds. */
  timestamp: number;
  type: string;
  [details: string]: unknown;
}

/** The details member of each event type, e.g. TaskScheduled → taskScheduledEventDetails. */
export function detailsKey(type: string): string {
  return `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
}

/** Event fields that carry execution data, dropped when includeExecutionData is false. */
const DATA_FIELDS = ['input', 'output', 'parameters'];

export class History {
  readonly events: HistoryEvent[];

  constructor(events: HistoryEvent[] = []) {
    this.events = events;
  }

  add(type: string, details?: Record<string, unknown>, at = Date.now()): HistoryEvent {
    const id = this.events.length + 1;
    const event: HistoryEvent = { id, previousEventId: id - 1, timestamp: at, type };
    if (details) event[detailsKey(type)] = details;
    this.events.push(event);
    return event;
  }

  /** The API form: epoch-second timestamps, optionally without inputs and outputs. */
  static toApi(event: HistoryEvent, includeData: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { ...event, timestamp: event.timestamp / 1000 };
    if (!includeData) {
      const key = detailsKey(event.type);
      const details = out[key] as Record<string, unknown> | undefined;
      if (details) out[key] = Object.fromEntries(Object.entries(details).filter(([k]) => !DATA_FIELDS.includes(k)));
    }
    return out;
  }
}

/** `{ truncated: false }` details that accompany every input and output. */
export const NOT_TRUNCATED = { truncated: false } as const;

/** AWS names state events after the state type: TaskStateEntered, ChoiceStateExited, … */
export function stateEventType(stateType: string, phase: 'Entered' | 'Exited'): string {
  return `${stateType}State${phase}`;
}

/** The history event that closes an execution with this status. */
export function closingEventType(status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED'): string {
  return { SUCCEEDED: 'ExecutionSucceeded', FAILED: 'ExecutionFailed', TIMED_OUT: 'ExecutionTimedOut', ABORTED: 'ExecutionAborted' }[status];
}

/**
 * Input or output as history text. Values nested thousands of levels deep are more than JSON.stringify can
 * walk; the history says so instead of the engine failing on its own record keeping.
 */
export function dataText(value: unknown): string {
  try {
    return JSON.stringify(value ?? null);
  } catch (err) {
    if (err instanceof RangeError) return JSON.stringify('(not recorded: nested too deeply to serialize)');
    throw err;
  }
}
