/** When reviewers are reminded before a round's time box runs out: `"50%"` of it elapsed, or `"10m"` before its end. */
import * as z from 'zod';

export const ReminderPoint = z
  .string()
  .regex(/^([1-9]\d?%|\d{1,5}[smhd])$/, 'a share of the time box elapsed, "1%" to "99%", or a time before it ends, e.g. "10m", "90s", "2h", "1d"');

export const Reminders = z
  .array(ReminderPoint)
  .max(5, 'at most five reminders per time box')
  .refine((r) => new Set(r).size === r.length, 'name each reminder once');
export type Reminders = z.infer<typeof Reminders>;
