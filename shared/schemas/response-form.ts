/**
 * The reviewer's POST body (application/x-www-form-urlencoded). The review page renders these field
 * names and the respond handler parses them with this schema: one source of truth for both.
 */
import * as z from 'zod';
import { parseWith } from './parse.ts';

/** Prefix of the per-argument inputs of an approval's "modify" choice: `arg.amount_usd`. */
export const ARG_FIELD_PREFIX = 'arg.';

const Reason = z.string().trim().min(1, 'say why').max(2000);
const Comment = z.string().trim().max(2000).optional();
/** The round the page was rendered for; a form from an earlier round (before an escalation) is stale. */
const Round = z.coerce.number().int().min(1);
/**
 * When the page was rendered (ISO 8601), for the decision's time on card. Analytics only: a missing or
 * malformed value is dropped, never a reason to refuse the decision (see timeOnCardMs).
 */
const Opened = z.string().max(40).optional().catch(undefined);

export const ResponseForm = z.discriminatedUnion('choice', [
  z.object({ choice: z.literal('approve'), round: Round, opened: Opened, comment: Comment }),
  z.object({ choice: z.literal('deny'), round: Round, opened: Opened, reason: Reason, comment: Comment }),
  /** Approval: edited `arg.*` fields; verification: `draftTitle` / `draftBody`. */
  z.object({
    choice: z.literal('modify'),
    round: Round, opened: Opened,
    comment: Comment,
    args: z.record(z.string(), z.string()).optional(),
    draftTitle: z.string().max(300).optional(),
    draftBody: z.string().trim().min(1).max(20000).optional(),
  }),
  /** `reason`: why it goes up a tier; the next tier reads it and the log keeps it. */
  z.object({ choice: z.literal('escalate'), round: Round, opened: Opened, reason: Reason.optional(), comment: Comment }),
  z.object({ choice: z.literal('answer'), round: Round, opened: Opened, option: z.string().min(1).max(64), comment: Comment }),
  z.object({ choice: z.literal('resolve'), round: Round, opened: Opened, result: z.string().trim().min(1, 'describe what you did').max(4000), comment: Comment }),
  z.object({
    choice: z.literal('correct'),
    round: Round, opened: Opened,
    correctedOutput: z.string().trim().min(1, 'give the corrected output').max(20000),
    category: z.enum(['factual', 'tone', 'policy', 'format', 'incomplete', 'other']),
    comment: Comment,
  }),
]);
export type ResponseForm = z.infer<typeof ResponseForm>;
export type Choice = ResponseForm['choice'];
export const CORRECTION_CATEGORIES = ['factual', 'tone', 'policy', 'format', 'incomplete', 'other'] as const;

/**
 * A preset reason picked on the page (`preset`) and the reviewer's own words (`reason`) make one reason:
 * "Amount too high: order not returned yet", or either alone.
 */
function withPreset(preset: unknown, reason: unknown): unknown {
  const picked = typeof preset === 'string' ? preset.trim() : '';
  if (!picked) return reason;
  const own = typeof reason === 'string' ? reason.trim() : '';
  return own ? `${picked}: ${own}` : picked;
}

/** Parse decoded form fields; `arg.*` fields are gathered into `args`, a `preset` reason into `reason`. */
export function parseResponseForm(fields: Record<string, string>): ResponseForm {
  const args: Record<string, string> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (key.startsWith(ARG_FIELD_PREFIX)) args[key.slice(ARG_FIELD_PREFIX.length)] = value;
    else if (key !== 'preset') rest[key] = value === '' && key !== 'reason' && key !== 'result' && key !== 'correctedOutput' ? undefined : value;
  }
  if (fields.preset !== undefined) rest.reason = withPreset(fields.preset, rest.reason);
  if (Object.keys(args).length > 0) rest.args = args;
  return parseWith(ResponseForm, rest, 'response');
}
