/**
 * Business hours in a reviewer group's own time zone, without a date library: Intl gives the wall-clock
 * parts of an instant, and wall-clock times are turned back into instants by correcting for the zone offset.
 */
import type { BusinessHours, Weekday } from '../schemas/config.ts';

const WEEKDAYS: readonly Weekday[] = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: Weekday;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function wallClock(at: Date, timeZone: string): WallClock & { second: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: (parts.weekday ?? 'Sun').toLowerCase().slice(0, 3) as Weekday,
  };
}

/** Offset of the zone from UTC at an instant, in milliseconds (positive east of Greenwich). */
function offsetMs(at: Date, timeZone: string): number {
  const w = wallClock(at, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant at which the zone's clocks show this wall-clock time (the later one if it is skipped by DST). */
export function zonedTime(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): Date {
  const guess = Date.UTC(year, month - 1, day, hour, minute);
  let at = new Date(guess - offsetMs(new Date(guess), timeZone));
  const corrected = new Date(guess - offsetMs(at, timeZone));
  if (corrected.getTime() !== at.getTime()) at = corrected;
  return at;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

export function isOpen(hours: BusinessHours, timeZone: string, at: Date): boolean {
  const w = wallClock(at, timeZone);
  if (!hours.days.includes(w.weekday)) return false;
  const minute = w.hour * 60 + w.minute;
  return minute >= minutesOf(hours.start) && minute < minutesOf(hours.end);
}

/** `from` itself when the group is open then, else the start of its next working period. */
export function nextOpening(hours: BusinessHours, timeZone: string, from: Date): Date {
  if (isOpen(hours, timeZone, from)) return from;
  const start = minutesOf(hours.start);
  const today = wallClock(from, timeZone);
  for (let offset = 0; offset <= 7; offset++) {
    // Noon avoids DST edges when stepping whole days on the calendar.
    const noon = new Date(Date.UTC(today.year, today.month - 1, today.day + offset, 12));
    const weekday = WEEKDAYS[noon.getUTCDay()] as Weekday;
    if (!hours.days.includes(weekday)) continue;
    const opening = zonedTime(noon.getUTCFullYear(), noon.getUTCMonth() + 1, noon.getUTCDate(), Math.floor(start / 60), start % 60, timeZone);
    if (opening.getTime() > from.getTime()) return opening;
  }
  throw new Error('business hours name no working day'); // unreachable: the schema requires at least one day
}

/** Longest time the group is closed in a week, in seconds (e.g. Friday 17:00 to Monday 09:00 = 64 h). */
export function longestClosedSeconds(hours: BusinessHours): number {
  const open = minutesOf(hours.start);
  const close = minutesOf(hours.end);
  const dayIndexes = hours.days.map((d) => WEEKDAYS.indexOf(d)).sort((a, b) => a - b);
  let longest = 0;
  dayIndexes.forEach((day, i) => {
    const next = i + 1 < dayIndexes.length ? (dayIndexes[i + 1] as number) : (dayIndexes[0] as number) + 7;
    const gapMinutes = (next - day) * 1440 + open - close;
    longest = Math.max(longest, gapMinutes);
  });
  return longest * 60;
}
