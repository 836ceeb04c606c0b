import { describe, expect, it } from 'vitest';
import { busEvent } from '#local/events/event.ts';
import { fillTemplate, targetInput, valueAt } from '#local/events/target-input.ts';

const event = busEvent({ id: 'e-1', source: 'hitl', detailType: 'hitl.decision', detail: { outcome: 'denied', by: { email: 'lead@example.com' }, args: [1, 2] }, resources: ['arn:one'] });
const target = { id: 'T', arn: 'arn:aws:lambda:us-east-1:000000000000:function:fn' };

describe('what an event rule target receives', () => {
  it('the whole event by default', () => {
    expect(targetInput(target, event, 'rule')).toBe(event);
  });

  it('Input: the constant JSON instead', () => {
    expect(targetInput({ ...target, input: '{"fixed":true}' }, event, 'rule')).toEqual({ fixed: true });
  });

  it('InputPath: a part of the event', () => {
    expect(targetInput({ ...target, inputPath: '$.detail' }, event, 'rule')).toEqual(event.detail);
    expect(valueAt(event, '$.detail.by.email')).toBe('lead@example.com');
    expect(valueAt(event, '$.resources[0]')).toBe('arn:one');
    expect(valueAt(event, '$.detail.nothing.here')).toBeUndefined();
  });

  it('InputTransformer: values inside a JSON string as text, outside as JSON; the rule name is reserved', () => {
    const input = targetInput(
      {
        ...target,
        inputTransformer: {
          pathsMap: { outcome: '$.detail.outcome', args: '$.detail.args', who: '$.detail.by' },
          template: '{"text":"<outcome> by <who>","args":<args>,"rule":"<aws.events.rule-name>"}',
        },
      },
      event,
      'decisions',
    );
    expect(input).toEqual({ text: 'denied by {"email":"lead@example.com"}', args: [1, 2], rule: 'decisions' });
  });

  it('a template that is not JSON is passed as text', () => {
    expect(fillTemplate('outcome: <o>', { o: 'approved' })).toBe('outcome: "approved"');
    expect(targetInput({ ...target, inputTransformer: { pathsMap: { o: '$.detail.outcome' }, template: '"<o>!"' } }, event, 'r')).toBe('denied!');
  });
});
