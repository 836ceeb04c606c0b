/**
 * Times as a reviewer reads them: relative ("expires in 27 min", "waiting 3 min") for a quick decision,
 * absolute in the reviewer group's time zone ("14:30 Europe/London") so the deadline is unambiguous.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A length of time, rounded down to what matters: "under 1 min", "27 min", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  const span = Math.max(0, ms);
  if (span < MINUTE) return 'under 1 min';
  if (span < HOUR) return `${Math.floor(span / MINUTE)} min`;
  if (span < DAY) {
    const h = Math.floor(span / HOUR);
    const m = Math.floor((span % HOUR) / MINUTE);
    return m === 0 ? `${h} h` : `${h} h ${m} min`;
  }
  const d = Math.floor(span / DAY);
  const h = Math.floor((span % DAY) / HOUR);
  return h === 0 ? `${d} d` : `${d} d ${h} h`;
}

/** "expires in 27 min", or "expired 4 min ago" once the moment has passed. */
export function formatTimeLeft(expiresAt: Date, now: Date): string {
  const left = expiresAt.getTime() - now.getTime();
  return left > 0 ? `expires in ${formatDuration(left)}` : `expired ${formatDuration(-left)} ago`;
}

/** "waiting 3 min": how long the agent has been paused. */
export function formatWaiting(since: Date, now: Date): string {
  return `waiting ${formatDuration(now.getTime() - since.getTime())}`;
}

const formatters = new Map<string, { time: Intl.DateTimeFormat; day: Intl.DateTimeFormat; date: Intl.DateTimeFormat }>();

function formattersFor(timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = {
      time: new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
      day: new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' }),
      date: new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }),
    };
    formatters.set(timeZone, f);
  }
  return f;
}

/**
 * Wall-clock time in `timeZone`: "14:30" on the same local day as `now`, otherwise with the day,
 * "Tue 3 Jun 14:30". The caller adds the zone name.
 */
export function formatClock(at: Date, timeZone: string, now: Date): string {
  const f = formattersFor(timeZone);
  const time = f.time.format(at);
  if (f.date.format(at) === f.date.format(now)) return time;
  return `${f.day.format(at).replace(',', '')} ${time}`;
}

/** "14:30 Europe/London" (or "Tue 3 Jun 14:30 Europe/London" on another day). */
export function formatZoned(at: Date, timeZone: string, now: Date): string {
  return `${formatClock(at, timeZone, now)} ${timeZone}`;
}
