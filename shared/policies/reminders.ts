/** The moments of a round's reminders. Pure. */
import type { Reminders } from '../schemas/reminders.ts';

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The reminder times of a time box from `start` to `end`, earliest first: `"50%"` is half of it elapsed,
 * `"10m"` ten minutes before the end. Points outside the box (a "2h" of a 30-minute box) are dropped, and
 * two points at the same second are one reminder.
 */
export function reminderTimes(points: Reminders, start: Date, end: Date): Date[] {
  const from = start.getTime();
  const to = end.getTime();
  const times = points.map((p) => {
    const n = Number(p.slice(0, -1));
    const unit = p.slice(-1);
    return unit === '%' ? from + ((to - from) * n) / 100 : to - n * UNIT_MS[unit as keyof typeof UNIT_MS];
  });
  const seconds = [...new Set(times.map((t) => Math.floor(t / 1000)))].filter((s) => s * 1000 > from && s * 1000 < to);
  return seconds.sort((a, b) => a - b).map((s) => new Date(s * 1000));
}
