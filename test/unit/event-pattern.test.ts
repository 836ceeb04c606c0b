import { describe, expect, it } from 'vitest';
import { InvalidEventPatternError, compilePattern, matches } from '#local/events/pattern.ts';

const event = {
  version: '0',
  id: 'e1',
  'detail-type': 'Step Functions Execution Status Change',
  source: 'aws.states',
  account: '000000000000',
  time: '2026-11-30T12:00:00Z',
  region: 'us-east-1',
  resources: ['arn:aws:states:us-east-1:000000000000:execution:Hitl-review:one'],
  detail: {
    status: 'ABORTED',
    stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:Hitl-review',
    name: 'one',
    error: null,
    redriveCount: 0,
    amount: 350,
    tags: ['refund', 'vip'],
    items: [
      { sku: 'A-1', qty: 2 },
      { sku: 'B-7', qty: 0 },
    ],
  },
};

describe('event patterns', () => {
  it('the status-change rule the stack will have: matches ABORTED, FAILED, TIMED_OUT of its state machine only', () => {
    const rule = {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['ABORTED', 'FAILED', 'TIMED_OUT'], stateMachineArn: ['arn:aws:states:us-east-1:000000000000:stateMachine:Hitl-review'] },
    };
    const test = compilePattern(rule);
    for (const status of ['ABORTED', 'FAILED', 'TIMED_OUT']) expect(test({ ...event, detail: { ...event.detail, status } })).toBe(true);
    for (const status of ['RUNNING', 'SUCCEEDED']) expect(test({ ...event, detail: { ...event.detail, status } })).toBe(false);
    expect(test({ ...event, detail: { ...event.detail, stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:other' } })).toBe(false);
    expect(test({ ...event, source: 'hitl' })).toBe(false);
  });

  it('exact values: strings, numbers, null; every field must match, any value of the list may', () => {
    expect(matches({ detail: { amount: [350] } }, event)).toBe(true);
    expect(matches({ detail: { amount: ['350'] } }, event)).toBe(false);
    expect(matches({ detail: { error: [null] } }, event)).toBe(true);
    expect(matches({ detail: { name: [null] } }, event)).toBe(false);
    expect(matches({ source: ['aws.states'], detail: { status: ['FAILED'] } }, event)).toBe(false);
    expect(matches({ detail: { missing: ['x'] } }, event)).toBe(false);
  });

  it('an array in the event matches when any element does; arrays of objects by element', () => {
    expect(matches({ detail: { tags: ['vip'] } }, event)).toBe(true);
    expect(matches({ detail: { tags: ['gold'] } }, event)).toBe(false);
    expect(matches({ resources: [{ prefix: 'arn:aws:states:' }] }, event)).toBe(true);
    expect(matches({ detail: { items: { sku: ['B-7'], qty: [0] } } }, event)).toBe(true);
    // Both fields must hold in the same element.
    expect(matches({ detail: { items: { sku: ['B-7'], qty: [2] } } }, event)).toBe(false);
  });

  it('prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matches({ 'detail-type': [{ prefix: 'Step Functions' }] }, event)).toBe(true);
    expect(matches({ 'detail-type': [{ prefix: 'step functions' }] }, event)).toBe(false);
    expect(matches({ 'detail-type': [{ prefix: { 'equals-ignore-case': 'step functions' } }] }, event)).toBe(true);
    expect(matches({ detail: { name: [{ suffix: 'ne' }] } }, event)).toBe(true);
    expect(matches({ detail: { status: [{ 'equals-ignore-case': 'aborted' }] } }, event)).toBe(true);
    expect(matches({ detail: { stateMachineArn: [{ wildcard: 'arn:aws:states:*:stateMachine:Hitl-*' }] } }, event)).toBe(true);
    expect(matches({ detail: { stateMachineArn: [{ wildcard: '*:other' }] } }, event)).toBe(false);
    expect(matches({ detail: { amount: [{ prefix: '3' }] } }, event)).toBe(false);
  });

  it('anything-but: a value, a list, a prefix; a missing field matches nothing', () => {
    expect(matches({ detail: { status: [{ 'anything-but': 'SUCCEEDED' }] } }, event)).toBe(true);
    expect(matches({ detail: { status: [{ 'anything-but': ['ABORTED', 'FAILED'] }] } }, event)).toBe(false);
    expect(matches({ detail: { status: [{ 'anything-but': { prefix: 'ABO' } }] } }, event)).toBe(false);
    expect(matches({ detail: { status: [{ 'anything-but': { prefix: 'SUC' } }] } }, event)).toBe(true);
    expect(matches({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
  });

  it('exists: present or absent, also under a parent the event lacks', () => {
    expect(matches({ detail: { name: [{ exists: true }] } }, event)).toBe(true);
    expect(matches({ detail: { missing: [{ exists: true }] } }, event)).toBe(false);
    expect(matches({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matches({ detail: { name: [{ exists: false }] } }, event)).toBe(false);
    expect(matches({ nowhere: { deeper: [{ exists: false }] } }, event)).toBe(true);
  });

  it('numeric ranges; strings never match them', () => {
    expect(matches({ detail: { amount: [{ numeric: ['>', 100, '<=', 350] }] } }, event)).toBe(true);
    expect(matches({ detail: { amount: [{ numeric: ['<', 350] }] } }, event)).toBe(false);
    expect(matches({ detail: { redriveCount: [{ numeric: ['=', 0] }] } }, event)).toBe(true);
    expect(matches({ detail: { status: [{ numeric: ['>', 0] }] } }, event)).toBe(false);
  });

  it('$or: any of the alternatives, together with the fields beside it', () => {
    const pattern = { source: ['aws.states'], $or: [{ detail: { status: ['FAILED'] } }, { detail: { amount: [{ numeric: ['>=', 300] }] } }] };
    expect(matches(pattern, event)).toBe(true);
    expect(matches({ ...pattern, source: ['hitl'] }, event)).toBe(false);
    expect(matches({ $or: [{ detail: { status: ['FAILED'] } }, { detail: { amount: [1] } }] }, event)).toBe(false);
  });

  it('takes the pattern as JSON text, as EventPattern may be written', () => {
    expect(matches('{"detail":{"status":["ABORTED"]}}', event)).toBe(true);
  });

  it.each([
    ['a leaf that is not an array', { source: 'aws.states' }],
    ['an empty array', { source: [] }],
    ['an unknown operator', { source: [{ 'starts-with': 'aws' }] }],
    ['cidr, which is not supported locally', { detail: { ip: [{ cidr: '10.0.0.0/24' }] } }],
    ['a numeric without pairs', { detail: { amount: [{ numeric: ['>'] }] } }],
    ['exists that is not a boolean', { detail: { name: [{ exists: 'yes' }] } }],
    ['$or with one alternative', { $or: [{ source: ['x'] }] }],
    ['an empty pattern', {}],
    ['text that is not JSON', '{source'],
  ])('rejects %s', (_, pattern) => {
    expect(() => compilePattern(pattern)).toThrow(InvalidEventPatternError);
  });
});
