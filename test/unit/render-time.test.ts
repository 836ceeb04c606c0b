import { describe, expect, it } from 'vitest';
import { formatClock, formatDuration, formatTimeLeft, formatWaiting, formatZoned } from '#shared/render/time.ts';

const MIN = 60_000;

describe('formatDuration', () => {
  it.each([
    [0, 'under 1 min'],
    [59_999, 'under 1 min'],
    [MIN, '1 min'],
    [27 * MIN + 59_000, '27 min'],
    [60 * MIN, '1 h'],
    [125 * MIN, '2 h 5 min'],
    [24 * 60 * MIN, '1 d'],
    [(3 * 24 + 4) * 60 * MIN + 59 * MIN, '3 d 4 h'],
    [-5 * MIN, 'under 1 min'],
  ])('%i ms reads "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('relative times', () => {
  const now = new Date('2025-06-03T13:03:00Z');

  it('counts down to the expiry, then counts since', () => {
    expect(formatTimeLeft(new Date('2025-06-03T13:30:00Z'), now)).toBe('expires in 27 min');
    expect(formatTimeLeft(new Date('2025-06-03T15:08:00Z'), now)).toBe('expires in 2 h 5 min');
    expect(formatTimeLeft(new Date('2025-06-03T12:59:00Z'), now)).toBe('expired 4 min ago');
    expect(formatTimeLeft(now, now)).toBe('expired under 1 min ago');
  });

  it('says how long the agent has waited', () => {
    expect(formatWaiting(new Date('2025-06-03T13:00:00Z'), now)).toBe('waiting 3 min');
    expect(formatWaiting(new Date('2025-06-03T13:02:30Z'), now)).toBe('waiting under 1 min');
  });
});

describe('absolute times in the group time zone', () => {
  it('shows the wall clock of the zone, with the day only when it is not today there', () => {
    const now = new Date('2025-06-03T13:03:00Z'); // 14:03 in London (BST)
    expect(formatZoned(new Date('2025-06-03T13:30:00Z'), 'Europe/London', now)).toBe('14:30 Europe/London');
    expect(formatZoned(new Date('2025-06-03T13:30:00Z'), 'UTC', now)).toBe('13:30 UTC');
    expect(formatZoned(new Date('2025-06-04T08:00:00Z'), 'Europe/London', now)).toBe('Wed 4 Jun 09:00 Europe/London');
    // Still 3 June in New York at 02:30 UTC on the 4th.
    expect(formatClock(new Date('2025-06-04T02:30:00Z'), 'America/New_York', now)).toBe('22:30');
    expect(formatClock(new Date('2025-06-04T02:30:00Z'), 'Asia/Tokyo', now)).toBe('Wed 4 Jun 11:30');
  });

  it('follows daylight saving time', () => {
    const winter = new Date('2025-01-15T12:00:00Z');
    expect(formatZoned(winter, 'Europe/London', winter)).toBe('12:00 Europe/London');
    expect(formatZoned(winter, 'America/New_York', winter)).toBe('07:00 America/New_York');
  });
});
