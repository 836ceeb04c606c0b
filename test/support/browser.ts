/**
 * A real browser for the e2e tests: the system's Chromium driven by playwright-core (no bundled browser
 * download). One browser per test file, a fresh context per case:
 *
 *   const browser = await launchBrowser();
 *   const context = await browser.newContext({ viewport: { width: 1024, height: 900 } });
 *   ...
 *   await screenshot(page, 'review-page');   // test-results/e2e/review-page.png
 *   await browser.close();
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '#local/stack.ts';
import { startTestStack, type TestStack } from './local-stack.ts';

/** Screenshots and other artifacts of the e2e suite (git-ignored). */
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-results', 'e2e');

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

// Quiet and deterministic: no GPU, no QUIC, no background fetches, updates or sync during a test.
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export class BrowserNotFoundError extends Error {
  constructor(tried: string[]) {
    super(
      `No Chromium found for the browser tests (tried CHROMIUM_PATH, ${tried.join(', ')} and \`chromium\` on PATH). ` +
        'Install it with `apt-get install chromium` (CI does this in .ci/run) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
    this.name = 'BrowserNotFoundError';
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** CHROMIUM_PATH, then the usual Debian locations, then `chromium` on PATH. */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const tried = env.CHROMIUM_PATH ? [env.CHROMIUM_PATH, ...CANDIDATES] : CANDIDATES;
  const found = tried.find(isExecutable);
  if (found) return found;
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    if (onPath && isExecutable(onPath)) return onPath;
  } catch {
    // not on PATH either
  }
  throw new BrowserNotFoundError(tried);
}

/** Launch headless Chromium; Playwright gives each launch a fresh temporary profile (user-data dir). */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ARGS, timeout: 30_000 });
}

/** Save a full-page PNG as `test-results/e2e/<name>.png`; returns its path. */
/** A local stack and a browser, started together; without a browser the stack is stopped rather than left listening. */
export async function startStackAndBrowser(): Promise<{ stack: TestStack; browser: Browser }> {
  const starting = startTestStack();
  const browser = await launchBrowser().catch(async (err: unknown) => {
    await (await starting.catch(() => undefined))?.stop();
    throw err;
  });
  return { stack: await starting, browser };
}

export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}
