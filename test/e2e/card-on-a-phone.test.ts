/**
 * The review card on a phone (375×812), against the whole local stack: for every kind of request, the page
 * and the email pass axe (WCAG 2.1 A/AA and best practices) in light and dark mode, and a decision control
 * is on the first screen. A refund is decided in two taps from the email: its Approve button opens the
 * page armed, one tap commits; the other reviewer is told who decided.
 *
 * Screenshots go to test-results/e2e/ (git-ignored).
 */
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import type { StoredEmail } from '#local/ses.ts';
import { PHONE, runAxe } from '../support/axe.ts';
import { startStackAndBrowser, screenshot } from '../support/browser.ts';
import type { TestStack } from '../support/local-stack.ts';

const SCHEMES = ['light', 'dark'] as const;
const APPROVE_REFUND = 'Approve refund · $350 · O-9421 · irreversible';

const common = { reason: 'customer reported defective product, attached photos confirm', risk: { class: 'financial', reversible: false }, reviewerGroup: 'support-leads', ttlSeconds: 1800 };
const LONG_BODY = Array.from({ length: 40 }, (_, i) => `Paragraph ${i + 1}: we are sorry about the defective product; your refund of $350 is on its way and should arrive within five working days.`).join('\n\n');

const KINDS: Record<string, ReviewRequestInput> = {
  approval: DEMO_REQUEST,
  disambiguation: { ...common, kind: 'disambiguation', agent: 'support-agent', confidence: 0.3, question: 'Which order is the refund about?', options: [{ id: 'o1', label: 'Order O-71', detail: 'placed 3 May, $350' }, { id: 'o2', label: 'Order O-72', detail: 'placed 9 May, $120' }, { id: 'o3', label: 'Order O-73' }] },
  verification: { ...common, kind: 'verification', agent: 'support-agent', draft: { channel: 'email', title: 'Your refund', audience: 'jane@customer.example', body: LONG_BODY } },
  escalation: { ...common, kind: 'escalation', agent: 'support-agent', task: { summary: 'Customer is upset about a lost parcel and asks for a call', attempts: 'Tracked the parcel: lost in transit.\nOffered a resend: customer refused.' } },
  correction: { ...common, kind: 'correction', agent: 'support-agent', output: { id: 'msg-R6', content: 'Refunds take 30 days.' }, issue: 'the policy says 5 days' },
};

describe('the review card on a phone', () => {
  let stack: TestStack;
  let browser: Browser;
  let sequence = 0;

  beforeAll(async () => {
    ({ stack, browser } = await startStackAndBrowser());
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function start(input: ReviewRequestInput): Promise<{ executionArn: string; requestId: string; email: StoredEmail }> {
    const { executionArn } = await stack.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name: `card-${++sequence}-${Date.now()}`, input: JSON.stringify(input) }),
    );
    const requestId = stack.requestIdOf(executionArn!, input);
    const [email] = await stack.waitForReviewEmails(requestId);
    return { executionArn: executionArn!, requestId, email: email! };
  }

  async function withPhone<T>(colorScheme: 'light' | 'dark', run: (context: BrowserContext) => Promise<T>): Promise<T> {
    // bypassCSP: the page's CSP forbids scripts, and axe is one.
    const context = await browser.newContext({ viewport: PHONE, colorScheme, bypassCSP: true });
    try {
      return await run(context);
    } finally {
      await context.close();
    }
  }

  async function axeViolations(page: Page): Promise<string[]> {
    const { violations, passes } = await runAxe(page);
    // axe ran and checked colour contrast and landmarks, rather than finding nothing to check.
    expect(passes).toEqual(expect.arrayContaining(['color-contrast', 'region']));
    return violations;
  }


  /** The decision section's first control: its bottom edge is on the first screen. */
  async function firstControlBottom(page: Page): Promise<number> {
    const control = page.locator('section[aria-labelledby="decide-title"]').locator('button, summary').first();
    const box = await control.boundingBox();
    expect(box).not.toBeNull();
    return box!.y + box!.height;
  }

  for (const [kind, input] of Object.entries(KINDS)) {
    it(`${kind}: page and email pass axe in light and dark; a decision control is on the first screen`, async () => {
      const { email } = await start(input);
      const link = stack.reviewLinks(email)[0]!;
      for (const scheme of SCHEMES) {
        await withPhone(scheme, async (context) => {
          const page = await context.newPage();
          const res = await page.goto(link);
          expect(res?.status()).toBe(200);
          expect(await page.locator('h2#decide-title').isVisible()).toBe(true);
          expect(await firstControlBottom(page), `${kind} ${scheme}: first decision control`).toBeLessThanOrEqual(PHONE.height);
          expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
          // Long text flows in the page: no element of the card scrolls on its own.
          const nestedScroll = await page.evaluate(
            `[...document.querySelectorAll('article *')].filter((e) => ['auto', 'scroll'].includes(getComputedStyle(e).overflowY) && e.scrollHeight > e.clientHeight + 1).length`,
          );
          expect(nestedScroll).toBe(0);
          await screenshot(page, `card-${kind}-${scheme}`, { fullPage: false });
          expect(await axeViolations(page), `${kind} page, ${scheme}`).toEqual([]);

          const mail = await context.newPage();
          await mail.setContent(email.body.html!);
          await screenshot(mail, `email-${kind}-${scheme}`);
          expect(await axeViolations(mail), `${kind} email, ${scheme}`).toEqual([]);
        });
      }
    });
  }

  it('a refund in two taps from the email: Approve opens the page armed, one tap commits; the other reviewer is told', async () => {
    const { executionArn, requestId } = await start(DEMO_REQUEST);
    const [lead] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    await withPhone('light', async (context) => {
      const viewer = await context.newPage();
      await viewer.goto(stack.endpoints.mailViewer);
      const item = viewer.locator('.email').filter({ has: viewer.locator(`[id="${lead!.messageId}-html"]`) });
      const frame = viewer.locator(`[id="${lead!.messageId}-html-iframe"]`);
      const approve = viewer.frameLocator(`[id="${lead!.messageId}-html-iframe"]`).getByRole('link', { name: APPROVE_REFUND });
      for (let attempt = 1; ; attempt++) {
        if (!(await frame.isVisible())) await item.getByRole('button', { name: 'Toggle HTML view' }).click();
        try {
          await approve.waitFor({ timeout: 10_000 });
          break;
        } catch (err) {
          if (attempt >= 3) throw err;
        }
      }
      // Tap 1: the email's Approve button opens the page in a new tab (target=_blank), armed, nothing decided.
      const [page] = await Promise.all([context.waitForEvent('page'), approve.click()]);
      await page.waitForLoadState();
      expect(new URL(page.url()).searchParams.get('choice')).toBe('approve');
      expect(await page.getByText('You chose to approve in the email.', { exact: false }).isVisible()).toBe(true);
      await screenshot(page, 'two-taps-armed', { fullPage: false });

      // The page's first Tab + Enter does not commit an irreversible approval.
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await page.waitForTimeout(500);
      expect(await page.getByText('Approved — the agent has been told.').count()).toBe(0);
      expect((await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

      // Tap 2: commits.
      const button = page.getByRole('button', { name: APPROVE_REFUND, exact: true });
      const box = await button.boundingBox();
      expect(box!.y + box!.height).toBeLessThanOrEqual(PHONE.height);
      await button.click();
      await page.getByText('Approved — the agent has been told.').waitFor();
      await screenshot(page, 'two-taps-approved', { fullPage: false });
      // The page that says what was recorded passes axe too, in both schemes.
      expect(await axeViolations(page), 'status page, light').toEqual([]);
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await axeViolations(page), 'status page, dark').toEqual([]);
    });
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!) as Decision).toMatchObject({ outcome: 'approved', decidedBy: 'lead@example.com', approvedArgs: { order_id: 'O-9421', amount_usd: 350 } });

    // The other reviewer of the tier gets one notice naming who decided; the decider gets none.
    const notice = (e: StoredEmail) => e.subject.startsWith('Approved by lead@example.com') && e.subject.endsWith(': Refund $350 O-9421 · customer-support-agent');
    const [told] = await stack.waitForEmails((e) => notice(e) && e.destination.to.includes('lead2@example.com'));
    expect(told!.body.text).toContain(requestId);
    await stack.events.settled(60_000);
    const all = (await stack.emails()).filter((e) => notice(e) && e.body.text?.includes(requestId));
    expect(all.map((e) => e.destination.to)).toEqual([['lead2@example.com']]);
    await withPhone('dark', async (context) => {
      const page = await context.newPage();
      await page.setContent(told!.body.html!);
      expect(await axeViolations(page), 'outcome notice').toEqual([]);
    });
  });

  it('a deny with a blank reason comes back with the Deny section open and what was typed; a preset reason denies', async () => {
    const { executionArn, email } = await start(DEMO_REQUEST);
    const link = stack.reviewLinks(email)[0]!;
    await withPhone('light', async (context) => {
      const page = await context.newPage();
      await page.goto(`${link}&choice=deny`);
      expect(await page.locator('details:has(#deny-reason)').getAttribute('open')).not.toBeNull();
      await page.getByLabel('Why not?').fill('   ');
      await page.getByRole('button', { name: 'Deny', exact: true }).click();
      await page.getByText('Nothing was sent. Please fix: reason: say why').waitFor();
      expect(await page.locator('details:has(#deny-reason)').getAttribute('open')).not.toBeNull();
      expect(await page.getByLabel('Why not?').inputValue()).toBe('   ');
      await screenshot(page, 'deny-blank-reason', { fullPage: false });

      await page.getByLabel('Amount too high').check();
      await page.getByLabel('Why not?').fill('the order was $120');
      await page.getByRole('button', { name: 'Deny', exact: true }).click();
      await page.getByText('Denied — the agent has been told, with your reason.').waitFor();
    });
    const done = await stack.waitForExecution(executionArn);
    expect(JSON.parse(done.output!) as Decision).toMatchObject({ outcome: 'denied', reason: 'Amount too high: the order was $120' });
  });
});
