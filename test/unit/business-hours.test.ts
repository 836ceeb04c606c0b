import { describe, expect, it } from 'vitest';
import { isOpen, longestClosedSeconds, nextOpening, zonedTime } from '#shared/policies/business-hours.ts';
import type { BusinessHours } from '#shared/schemas/config.ts';

const weekdays: BusinessHours = { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' };

describe('business hours', () => {
  it('turns wall-clock times into instants across DST', () => {
    expect(zonedTime(2026, 1, 15, 9, 0, 'Europe/London').toISOString()).toBe('2026-01-15T09:00:00.000Z');
    expect(zonedTime(2026, 7, 15, 9, 0, 'Europe/London').toISOString()).toBe('2026-07-15T08:00:00.000Z');
    expect(zonedTime(2026, 7, 15, 9, 0, 'America/New_York').toISOString()).toBe('2026-07-15T13:00:00.000Z');
    expect(zonedTime(2026, 11, 25, 9, 0, 'Asia/Kolkata').toISOString()).toBe('2026-11-25T03:30:00.000Z');
  });

  it('knows when the group is open', () => {
    // Tuesday 24 Nov 2026
    expect(isOpen(weekdays, 'Europe/London', new Date('2026-11-24T10:00:00Z'))).toBe(true);
    expect(isOpen(weekdays, 'Europe/London', new Date('2026-11-24T17:00:00Z'))).toBe(false);
    expect(isOpen(weekdays, 'Europe/London', new Date('2026-11-28T10:00:00Z'))).toBe(false); // Saturday
    expect(isOpen(weekdays, 'America/New_York', new Date('2026-11-24T10:00:00Z'))).toBe(false); // 05:00 there
  });

  it('finds the next opening from a night, a weekend and during hours', () => {
    // 22:00 Tuesday in London → 09:00 Wednesday
    expect(nextOpening(weekdays, 'Europe/London', new Date('2026-11-24T22:00:00Z')).toISOString()).toBe('2026-11-25T09:00:00.000Z');
    // Early Tuesday → same day 09:00
    expect(nextOpening(weekdays, 'Europe/London', new Date('2026-11-24T06:30:00Z')).toISOString()).toBe('2026-11-24T09:00:00.000Z');
    // Friday 18:00 → Monday 09:00
    expect(nextOpening(weekdays, 'Europe/London', new Date('2026-11-27T18:00:00Z')).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    // Open now → now
    const now = new Date('2026-11-24T11:15:00Z');
    expect(nextOpening(weekdays, 'Europe/London', now)).toEqual(now);
    // Tokyo, 22:00 local Tuesday is 13:00Z → 09:00 local Wednesday is 00:00Z Wednesday
    expect(nextOpening(weekdays, 'Asia/Tokyo', new Date('2026-11-24T13:00:00Z')).toISOString()).toBe('2026-11-25T00:00:00.000Z');
  });

  it('measures the longest closure of the week', () => {
    expect(longestClosedSeconds(weekdays)).toBe(64 * 3600);
    expect(longestClosedSeconds({ days: ['wed'], start: '10:00', end: '12:00' })).toBe((7 * 24 - 2) * 3600);
  });
});
