/**
 * The TypeScript client re-declares ReviewRequest and Decision; they must have the published JSON Schemas'
 * shape: the same kinds, fields, required fields, types and enums, branch by branch. Limits (patterns,
 * lengths) are the server's to check and are left out of the comparison.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Decision, ReviewRequest } from '../../clients/typescript/src/contract.ts';

type Schema = Record<string, unknown>;
const KEPT = ['type', 'const', 'enum', 'properties', 'required', 'items', 'anyOf', 'oneOf', 'additionalProperties'];

/** Structure only; `$ref`s (recursive JSON values) compare as one token. */
function shape(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(shape);
  if (!schema || typeof schema !== 'object') return schema;
  const s = schema as Schema;
  if (typeof s.$ref === 'string') return '$ref';
  const out: Schema = {};
  for (const key of KEPT) {
    if (!(key in s)) continue;
    const value = s[key];
    if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value as Schema).map(([k, v]) => [k, shape(v)]));
    else if (key === 'required' || key === 'enum') out[key] = [...(value as string[])].sort();
    else out[key] = shape(value);
  }
  return out;
}

const published = (name: string) => JSON.parse(readFileSync(new URL(`../../docs/schemas/${name}`, import.meta.url), 'utf8')) as Schema;
const declared = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Schema;

describe('the TypeScript client’s contract types', () => {
  it('Decision has the published fields, types and enums', () => {
    expect(shape(declared(Decision, 'output'))).toEqual(shape(published('decision.schema.json')));
  });

  it('ReviewRequest has the published branches, fields, types and enums', () => {
    // Published as the agent writes it (input), the Decision as the execution returns it (output).
    const mine = declared(ReviewRequest, 'input');
    const theirs = published('review-request.schema.json');
    const branches = (s: Schema) => ((s.oneOf ?? s.anyOf) as Schema[]).map(shape);
    expect(branches(mine)).toEqual(branches(theirs));
  });
});
