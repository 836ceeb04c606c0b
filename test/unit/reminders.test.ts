import { describe, expect, it } from 'vitest';
import { reminderTimes } from '#shared/policies/reminders.ts';
import { admitRequest } from '#shared/review/admission.ts';
import { newPendingRow } from '#shared/review/open.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';

const start = new Date('2026-11-24T10:00:00Z');
const end = new Date('2026-11-24T10:03:00Z');
const at = (dates: Date[]) => dates.map((d) => d.toISOString().slice(11, 19));

describe('reminder times', () => {
  it('a share of the box elapsed, or a time before its end, earliest first', () => {
    expect(at(reminderTimes(['1m', '50%'], start, end))).toEqual(['10:01:30', '10:02:00']);
    expect(at(reminderTimes(['10%', '90s'], start, end))).toEqual(['10:00:18', '10:01:30']);
  });

  it('drops points outside the box and merges two at the same second', () => {
    expect(at(reminderTimes(['2h', '50%', '90s'], start, end))).toEqual(['10:01:30']);
    expect(reminderTimes([], start, end)).toEqual([]);
  });
});

describe('reminders in the config', () => {
  const config = (reminders: unknown) => ({ sender: 'hitl@example.com', reviewerGroups: { ops: { tiers: [{ name: 'one', members: ['a@example.com'] }], reminders } } });

  it('accepts percentages and durations', () => {
    expect(parseDeploymentConfig(config(['50%', '10m'])).reviewerGroups.ops!.reminders).toEqual(['50%', '10m']);
  });

  it('refuses anything else, naming the path', () => {
    expect(() => parseDeploymentConfig(config(['100%']))).toThrow(/reviewerGroups\.ops\.reminders\.0/);
    expect(() => parseDeploymentConfig(config(['10 minutes']))).toThrow(/a share of the time box elapsed/);
    expect(() => parseDeploymentConfig(config(['5m', '5m']))).toThrow(/name each reminder once/);
  });
});

describe('reminders of a new request', () => {
  const base = {
    sender: 'hitl@example.com',
    reviewerGroups: { ops: { tiers: [{ name: 'one', members: ['a@example.com'] }], reminders: ['50%'] } },
  };
  const request = { kind: 'approval', agent: 'bot', action: { name: 'refund', args: {} }, reason: 'r', risk: { class: 'financial', reversible: false }, reviewerGroup: 'ops' };
  const rowOf = (config: unknown) => {
    const admitted = admitRequest(request, parseDeploymentConfig(config));
    return newPendingRow({ requestId: 'r1', ...admitted, taskToken: 't', executionArn: 'arn' }, new Date(), {});
  };

  it("come from the group, or from the policy rule that applies instead", () => {
    expect(rowOf(base).reminders).toEqual(['50%']);
    const policy = { riskClasses: ['financial'], rules: [{ name: 'refunds', match: { action: 'refund' }, reminders: ['10m', '90%'] }] };
    expect(rowOf({ ...base, policy }).reminders).toEqual(['10m', '90%']);
    expect(rowOf({ ...base, reviewerGroups: { ops: { tiers: base.reviewerGroups.ops.tiers } } }).reminders).toBeUndefined();
  });
});
