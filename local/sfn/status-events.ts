/**
 * "Step Functions Execution Status Change" events, in the shape Step Functions sends to the default event bus
 * for each status an execution enters: RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED.
 */
import { busEvent, eventId, type BusEvent } from '../events/event.ts';
import type { ExecutionRecord, ExecutionStatus } from './store.ts';

export const STATUS_CHANGE_SOURCE = 'aws.states';
export const STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';

/** Input and output above this are left out of the event (`included: false`), which is capped at 256 KB. */
const MAX_DATA_BYTES = 248 * 1024;

function data(text: string | undefined): { value: string | null; details: { included: boolean } | null } {
  if (text === undefined) return { value: null, details: null };
  return Buffer.byteLength(text) <= MAX_DATA_BYTES ? { value: text, details: { included: true } } : { value: null, details: { included: false } };
}

/** The event for `status`; its id depends only on the execution and the status, so announcing it again repeats it. */
export function statusChangeEvent(record: ExecutionRecord, status: ExecutionStatus): BusEvent {
  const closed = status !== 'RUNNING';
  const input = data(record.input);
  const output = data(closed && status === 'SUCCEEDED' ? record.output : undefined);
  return busEvent({
    id: eventId(`${record.executionArn} ${status}`),
    source: STATUS_CHANGE_SOURCE,
    detailType: STATUS_CHANGE_DETAIL_TYPE,
    resources: [record.executionArn],
    at: closed ? (record.stopDate ?? Date.now()) : record.startDate,
    detail: {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status,
      startDate: record.startDate,
      stopDate: closed ? (record.stopDate ?? null) : null,
      input: input.value,
      output: output.value,
      inputDetails: input.details,
      outputDetails: output.details,
      error: closed ? (record.error ?? null) : null,
      cause: closed ? (record.cause ?? null) : null,
      redriveCount: 0,
      redriveDate: null,
      redriveStatus: 'NOT_REDRIVABLE',
      // Step Functions can redrive a failed, aborted or timed-out execution; the local stack cannot.
      redriveStatusReason: `Execution is ${status} and cannot be redriven${['RUNNING', 'SUCCEEDED'].includes(status) ? '' : ' on the local stack'}`,
    },
  });
}
