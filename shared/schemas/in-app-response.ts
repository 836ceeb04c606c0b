/**
 * The JSON body of `POST /v1/requests/{id}/response`: a respondent's answer in the host app. The same
 * choices as the review form (shared/schemas/response-form.ts) but typed JSON: edited arguments keep their
 * JSON types. There is no `escalate`: an in-app request has no tier above its respondent.
 */
import * as z from 'zod';
import { JsonValue } from './json.ts';
import { CORRECTION_CATEGORIES } from './response-form.ts';

const Reason = z.string().trim().min(1, 'say why').max(2000);
const Comment = z.string().trim().max(2000).optional();
/** The round the app showed; if given and the request has moved on since, nothing is decided (409). */
const Round = z.number().int().min(1).optional();

export const InAppResponse = z.discriminatedUnion('choice', [
  z.strictObject({ choice: z.literal('approve'), round: Round, comment: Comment }),
  z.strictObject({ choice: z.literal('deny'), round: Round, reason: Reason, comment: Comment }),
  /** Approval: every argument in `args`, changed or not; verification: `draftBody` (and `draftTitle`). */
  z.strictObject({
    choice: z.literal('modify'),
    round: Round,
    comment: Comment,
    args: z.record(z.string().min(1).max(128), JsonValue).optional(),
    draftTitle: z.string().max(300).optional(),
    draftBody: z.string().trim().min(1).max(20000).optional(),
  }),
  z.strictObject({ choice: z.literal('answer'), round: Round, option: z.string().min(1).max(64), comment: Comment }),
  z.strictObject({ choice: z.literal('resolve'), round: Round, result: z.string().trim().min(1, 'describe what you did').max(4000), comment: Comment }),
  z.strictObject({
    choice: z.literal('correct'),
    round: Round,
    correctedOutput: z.string().trim().min(1, 'give the corrected output').max(20000),
    category: z.enum(CORRECTION_CATEGORIES),
    comment: Comment,
  }),
]);
export type InAppResponse = z.infer<typeof InAppResponse>;
