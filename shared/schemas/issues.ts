import type { z } from 'zod';

export interface IssueSummary {
  path: string;
  message: string;
}

export function summarizeIssues(issues: readonly z.core.$ZodIssue[]): IssueSummary[] {
  return issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return summarizeIssues(issues)
    .map((i) => `  - ${i.path}: ${i.message}`)
    .join('\n');
}
