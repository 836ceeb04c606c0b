/** Repository paths the CDK app needs: handler entry files are named relative to the repo root. */
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const LOCK_FILE = join(REPO_ROOT, 'package-lock.json');

export function repoPath(relative: string): string {
  return isAbsolute(relative) ? relative : join(REPO_ROOT, relative);
}

export function repoFileExists(relative: string): boolean {
  return existsSync(repoPath(relative));
}
