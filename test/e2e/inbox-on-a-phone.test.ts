/**
 * The web inbox and the error page on a phone (375×812), against the whole local stack: every page a reviewer
 * meets on the way from "Email me a sign-in link" to the pending list passes axe (WCAG 2.1 A/AA and best
 * practices) in light and dark mode, and the signed-in list shows the pending refund with its review link.
 *
 * Screenshots go to test-results/e2e/ (git-ignored).
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { SIGN_IN_SUBJECT } from '#shared/inbox/sign-in.ts';
import { PHONE, runAxe } from '../support/axe.ts';
import { startStackAndBrowser, screenshot } from '../support/browser.ts';
import type { TestStack } from '../support/local-stack.ts';

const REVIEWER = 'lead@example.com';

describe('the web inbox on a phone', () => {
  let stack: TestStack;
  let browser: Browser;

  beforeAll(async () => {
    ({ stack, browser } = await startStackAndBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  /** axe in light, then in dark mode; both must be clean, and contrast must have been checked. */
  async function expectAccessible(page: Page, name: string): Promise<void> {
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      const { violations, passes } = await runAxe(page);
      expect(passes, `${name}, ${colorScheme}: axe checked contrast`).toContain('color-contrast');
      expect(violations, `${name}, ${colorScheme}`).toEqual([]);
      await screenshot(page, `inbox-${name}-${colorScheme}`, { fullPage: false });
    }
  }

  it('sign-in form, link sent, sign-in button, pending list and an error page pass axe in light and dark', async () => {
    const { executionArn } = await stack.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name: `inbox-a11y-${Date.now()}`, input: JSON.stringify(DEMO_REQUEST) }),
    );
    const requestId = stack.requestIdOf(executionArn!, DEMO_REQUEST);
    await stack.waitForReviewEmails(requestId, { to: REVIEWER });

    // bypassCSP: the pages' CSP forbids scripts, and axe is one.
    const context = await browser.newContext({ viewport: PHONE, bypassCSP: true });
    try {
      const page = await context.newPage();
      expect((await page.goto(`${stack.endpoints.respond}/inbox`))?.status()).toBe(200);
      await expectAccessible(page, 'sign-in');

      await page.getByRole('textbox').fill(REVIEWER);
      await page.getByRole('button', { name: 'Email me a sign-in link' }).click();
      await page.waitForLoadState();
      await expectAccessible(page, 'link-sent');

      const [mail] = await stack.waitForEmails((e) => e.subject === SIGN_IN_SUBJECT && e.destination.to.length === 1 && e.destination.to[0] === REVIEWER, 1);
      const prefix = `${stack.endpoints.respond}/inbox/sign-in?t=`;
      const link = [...(mail!.body.text ?? '').matchAll(/https?:\/\/\S+/g)].map((m) => m[0]).find((u) => u.startsWith(prefix));
      expect(link, 'the sign-in email carries the link').toBeDefined();
      expect((await page.goto(link!))?.status()).toBe(200);
      await expectAccessible(page, 'sign-in-button');

      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForLoadState();
      expect(new URL(page.url()).pathname).toBe('/inbox');
      // The pending refund is listed, with a review link for this reviewer.
      const row = page.locator(`tr[data-request-id="${requestId}"]`);
      await row.waitFor();
      expect(await row.locator('a').first().getAttribute('href')).toContain(`/r/${requestId}?`);
      expect(await row.locator('a').first().textContent()).toBe('Refund $350 O-9421');
      await expectAccessible(page, 'list');

      expect((await page.goto(`${stack.endpoints.respond}/r/${requestId}?a=${encodeURIComponent(REVIEWER)}&e=1&k=k1&s=forged`))?.status()).toBeGreaterThanOrEqual(400);
      await expectAccessible(page, 'error');
    } finally {
      await context.close();
    }
  });
});
