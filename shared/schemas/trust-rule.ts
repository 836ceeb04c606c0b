/**
 * Trust rules: a reviewer's "trust this action for N hours". One agent, one action, bounds on its arguments,
 * an expiry; created and revoked from the web inbox, applied by the route step. The form's field names and
 * the stored shape are defined here, once.
 */
import * as z from 'zod';
import { parseWith } from './parse.ts';
import { ActionName, GroupName } from './review-request.ts';

/** The longest a trust rule may last. */
export const MAX_TRUST_HOURS = 72;
/** Active rules a group may hold at once: the route step reads them all for each request. */
export const MAX_ACTIVE_TRUST_RULES = 50;

const AgentName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'use the agent name as it sends it: letters, digits, ".", "_" or "-"');
const ArgName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/, 'name a top-level argument, e.g. amount_usd');

export const BoundOp = z.enum(['<=', '>=', '<', '>', '=']);
export type BoundOp = z.infer<typeof BoundOp>;

/** One bound on a top-level argument: comparisons take numbers, `=` any JSON scalar. */
export const ArgBound = z.union([
  z.object({ arg: ArgName, op: z.enum(['<=', '>=', '<', '>']), value: z.number().finite() }),
  z.object({ arg: ArgName, op: z.literal('='), value: z.union([z.number().finite(), z.string().max(200), z.boolean()]) }),
]);
export type ArgBound = z.infer<typeof ArgBound>;

export const TrustRule = z.object({
  id: z.string().regex(/^tr-[a-f0-9]{12}$/),
  /** The reviewer group whose requests it may approve; its members see it in their inbox. */
  group: GroupName,
  agent: AgentName,
  action: ActionName,
  /** Every bound must hold; an argument a bound names must be present. */
  bounds: z.array(ArgBound).min(1).max(10),
  createdBy: z.email(),
  createdAt: z.iso.datetime(),
  expiresAt: z.iso.datetime(),
  note: z.string().max(500).optional(),
  revokedAt: z.iso.datetime().optional(),
  revokedBy: z.email().optional(),
});
export type TrustRule = z.infer<typeof TrustRule>;

const BOUND = /^\s*([A-Za-z_][A-Za-z0-9_-]*)\s*(<=|>=|≤|≥|<|>|=)\s*(.+?)\s*$/;
const NUMBER = /^-?\d+(\.\d+)?$/;

function scalar(text: string): number | string | boolean {
  if (NUMBER.test(text)) return Number(text);
  if (text === 'true' || text === 'false') return text === 'true';
  const quoted = /^"(.*)"$/.exec(text) ?? /^'(.*)'$/.exec(text);
  return quoted ? quoted[1]! : text;
}

/** One clause, `amount_usd <= 50`, as a candidate ArgBound (undefined when it does not read as one). */
function parseClause(clause: string): unknown {
  const m = BOUND.exec(clause);
  if (!m) return undefined;
  const op = m[2] === '≤' ? '<=' : m[2] === '≥' ? '>=' : m[2]!;
  return { arg: m[1], op, value: scalar(m[3]!) };
}

const BOUND_HELP = 'write <argument> <op> <value> with <=, >=, < or > and a number, or = and a value, e.g. amount_usd <= 50';

/** `amount_usd <= 50, currency = "USD"`: clauses separated by commas or new lines. */
const BoundsText = z
  .string()
  .max(1000)
  .transform((text, ctx) => {
    const bounds: ArgBound[] = [];
    for (const clause of text.split(/[,\n]/).map((c) => c.trim()).filter(Boolean)) {
      const parsed = ArgBound.safeParse(parseClause(clause));
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `"${clause.slice(0, 80)}": ${BOUND_HELP}` });
        return z.NEVER;
      }
      bounds.push(parsed.data);
    }
    if (bounds.length === 0 || bounds.length > 10) {
      ctx.addIssue({ code: 'custom', message: `name 1 to 10 argument bounds, e.g. amount_usd <= 50` });
      return z.NEVER;
    }
    return bounds;
  });

/** The inbox's "trust this action" form, as posted. */
export const TrustRuleForm = z.object({
  group: GroupName,
  agent: AgentName,
  action: ActionName,
  bounds: BoundsText,
  hours: z.coerce.number().int().min(1).max(MAX_TRUST_HOURS),
  note: z.string().trim().max(500).optional(),
});
export type TrustRuleForm = z.infer<typeof TrustRuleForm>;

export function parseTrustRuleForm(fields: Record<string, string>): TrustRuleForm {
  const input: Record<string, string | undefined> = { ...fields };
  if (input.note === '') input.note = undefined;
  return parseWith(TrustRuleForm, input, 'trust rule');
}

/** "amount_usd ≤ 50, currency = "USD"" */
export function describeBounds(bounds: readonly ArgBound[]): string {
  const sym: Record<string, string> = { '<=': '≤', '>=': '≥', '<': '<', '>': '>', '=': '=' };
  return bounds.map((b) => `${b.arg} ${sym[b.op]} ${JSON.stringify(b.value)}`).join(', ');
}
