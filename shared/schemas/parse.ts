import type { z } from 'zod';
import { InvalidRequestError } from '../errors.ts';
import { summarizeIssues } from './issues.ts';

/** Parse untrusted input; an InvalidRequestError lists every zod issue with its path, e.g. `action.args`. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (!result.success) {
    const issues = summarizeIssues(result.error.issues);
    throw new InvalidRequestError(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return result.data;
}
