/** The agent examples of the README, by the marker comment above each code block. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '#local/stack.ts';

export function readmeAgent(language: 'typescript' | 'python'): string {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- agent:${language} -->\\n\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match) throw new Error(`README.md has no <!-- agent:${language} --> code block`);
  return match[1]!;
}
