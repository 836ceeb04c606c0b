/** JSON Schema documents generated from the zod schemas, for agents not written in TypeScript. */
import * as z from 'zod';
import { ReviewRequest } from './review-request.ts';
import { Decision } from './decision.ts';

export const JSON_SCHEMA_FILES = {
  'review-request.schema.json': () => z.toJSONSchema(ReviewRequest, { io: 'input', target: 'draft-2020-12' }),
  'decision.schema.json': () => z.toJSONSchema(Decision, { io: 'output', target: 'draft-2020-12' }),
} as const;

export function renderJsonSchema(name: keyof typeof JSON_SCHEMA_FILES): string {
  const schema = { $id: `https://github.com/hitl-dev/hitl/schemas/${name}`, ...JSON_SCHEMA_FILES[name]() };
  return `${JSON.stringify(schema, null, 2)}\n`;
}
