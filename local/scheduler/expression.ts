/** EventBridge Scheduler expressions: `at(...)` one-time schedules in a time zone, and `rate(...)`. */
export type ParsedExpression =
  | { kind: 'at'; at: number }
  | { kind: 'rate'; periodMs: number }
  | { kind: 'cron'; expression: string };

const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;
const UNIT_MS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** How far ahead of UTC the zone's wall clock is at `instant`, in ms. */
function zoneOffsetMs(timeZone: string, instant: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return wall - Math.floor(instant / 1000) * 1000;
}

/** The instant at which the zone's wall clock shows the given local time. */
export function zonedTimeToUtc(wallAsUtc: number, timeZone: string): number {
  let guess = wallAsUtc - zoneOffsetMs(timeZone, wallAsUtc);
  guess = wallAsUtc - zoneOffsetMs(timeZone, guess);
  return guess;
}

/** Parse a schedule expression; undefined when it is not one the Scheduler accepts. */
export function parseExpression(expression: string, timeZone = 'UTC'): ParsedExpression | undefined {
  const at = AT.exec(expression);
  if (at) {
    const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [number, number, number, number, number, number];
    const wall = Date.UTC(y, mo - 1, d, h, mi, s);
    const check = new Date(wall);
    if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return undefined;
    return { kind: 'at', at: zonedTimeToUtc(wall, timeZone) };
  }
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) return undefined;
    return { kind: 'rate', periodMs: value * UNIT_MS[rate[2]!.replace(/s$/, '')]! };
  }
  if (CRON.test(expression)) return { kind: 'cron', expression };
  return undefined;
}
