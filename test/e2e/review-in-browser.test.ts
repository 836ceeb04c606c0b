/**
 * A reviewer in a real browser, against the whole local stack: the agent's StartExecution emails a signed
 * link, the reviewer opens the email in the mail viewer, follows the link, reads the card and decides by
 * clicking the page's own buttons. Each case ends with the execution's Decision and the decision-log row.
 *
 * Screenshots go to test-results/e2e/ (git-ignored).
 */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { LogEvent } from '#shared/store/model.ts';
import { startStackAndBrowser, screenshot } from '../support/browser.ts';
import type { TestStack } from '../support/local-stack.ts';

const DESKTOP = { width: 1024, height: 900 };
const PHONE = { width: 375, height: 812 };
/** The approve button names what it commits to. */
const APPROVE = 'Approve refund · $350 · O-9421 · irreversible';

describe('reviewer in a browser', () => {
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

  /** Start the lesson's refund (the demo agent's request) and wait for its email to `reviewer`; returns the execution and the email's id. */
  async function requestRefund(reviewer: string): Promise<{ executionArn: string; messageId: string }> {
    const { executionArn } = await stack.clients.sfn.send(
      new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name: `refund-${++sequence}-${Date.now()}`, input: JSON.stringify(DEMO_REQUEST) }),
    );
    const [email] = await stack.waitForReviewEmails(stack.requestIdOf(executionArn!, DEMO_REQUEST), { to: reviewer });
    return { executionArn: executionArn!, messageId: email!.messageId };
  }

  /**
   * Open the mail viewer, show the email's HTML and open its "Review and decide" button in a new tab, as a
   * reviewer does from a mail client (the review page refuses to be framed, so it cannot open inside the viewer).
   */
  async function openFromMailViewer(context: BrowserContext, messageId: string, shot?: string): Promise<Page> {
    const viewer = await context.newPage();
    await viewer.goto(stack.endpoints.mailViewer);
    const email = viewer.locator('.email').filter({ has: viewer.locator(`[id="${messageId}-html"]`) });
    const frame = viewer.locator(`[id="${messageId}-html-iframe"]`);
    const button = viewer.frameLocator(`[id="${messageId}-html-iframe"]`).getByRole('link', { name: 'Review and decide' });
    // The viewer re-renders its list as mail arrives, which can close an HTML view opened a moment before.
    for (let attempt = 1; ; attempt++) {
      if (!(await frame.isVisible())) await email.getByRole('button', { name: 'Toggle HTML view' }).click();
      try {
        await button.waitFor({ timeout: 10_000 });
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
    if (shot) await screenshot(viewer, shot, { fullPage: false });
    const [review] = await Promise.all([context.waitForEvent('page'), button.click({ modifiers: ['ControlOrMeta'] })]);
    await review.waitForLoadState();
    await viewer.close();
    return review;
  }

  /** The card's facts as shown: label → value, only for pairs the reader can see. */
  async function visibleFacts(page: Page): Promise<Record<string, string>> {
    const card = page.locator('article.card');
    const labels = card.locator('dt');
    const facts: Record<string, string> = {};
    for (let i = 0; i < (await labels.count()); i++) {
      const dt = labels.nth(i);
      const dd = card.locator('dd').nth(i);
      if ((await dt.isVisible()) && (await dd.isVisible())) facts[(await dt.innerText()).trim()] = (await dd.innerText()).trim();
    }
    return facts;
  }

  async function expectFullCard(page: Page): Promise<void> {
    const facts = await visibleFacts(page);
    expect(facts).toMatchObject({
      Agent: 'customer-support-agent',
      Action: 'refund("order_id": "O-9421", "amount_usd": 350)',
      Reason: 'customer reported defective product, attached photos confirm',
      'Plan step': '3 of 4',
      Context: 'customer has 6 prior orders, no prior refunds',
      Risk: 'financial · irreversible',
    });
    // A deadline on another day than now (after 23:30 London) also names its day: "(Tue 1 Dec 00:16 Europe/London)".
    expect(facts.Time).toMatch(/^expires in (2\d|30) min \((?:[A-Z][a-z]{2} \d{1,2} [A-Z][a-z]{2} )?\d\d:\d\d Europe\/London\)/);
    const args = page.locator('article.card table tr');
    expect(await args.allInnerTexts()).toEqual([expect.stringMatching(/^"order_id"\s+"O-9421"$/), expect.stringMatching(/^"amount_usd"\s+350$/)]);
    // Approve is one tap; deny and modify fold open first, since they need typing.
    expect(await page.getByRole('button', { name: APPROVE, exact: true }).isVisible()).toBe(true);
    for (const summary of ['Deny…', 'Modify and approve…']) expect(await page.getByText(summary, { exact: true }).isVisible(), summary).toBe(true);
  }

  async function finalDecision(executionArn: string): Promise<Decision> {
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    return JSON.parse(done.output!) as Decision;
  }

  async function decidedRow(requestId: string): Promise<LogEvent | undefined> {
    const out = await stack.clients.doc.send(
      new QueryCommand({ TableName: stack.tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }),
    );
    return (out.Items as LogEvent[] | undefined)?.find((e) => e.event === 'decided');
  }

  async function withContext<T>(viewport: { width: number; height: number }, run: (context: BrowserContext) => Promise<T>): Promise<T> {
    const context = await browser.newContext({ viewport });
    try {
      return await run(context);
    } finally {
      await context.close();
    }
  }

  it('approve: from the mail viewer to the card, every field shown; the execution succeeds with the approval; a second POST shows who decided', async () => {
    const { executionArn, messageId } = await requestRefund('lead@example.com');
    await withContext(DESKTOP, async (context) => {
      const page = await openFromMailViewer(context, messageId, 'mail-viewer');
      expect(new URL(page.url()).origin).toBe(new URL(stack.endpoints.respond).origin);
      await expectFullCard(page);
      expect(await page.getByText('Reviewing as lead@example.com').isVisible()).toBe(true);
      await screenshot(page, 'review-page');

      await page.getByRole('button', { name: APPROVE, exact: true }).click();
      await page.getByText('Approved — the agent has been told.').waitFor();
      expect(await page.getByRole('heading', { name: /^Approved by lead@example\.com/ }).isVisible()).toBe(true);
      await screenshot(page, 'approved');

      const decision = await finalDecision(executionArn);
      expect(decision).toMatchObject({
        outcome: 'approved',
        decidedBy: 'lead@example.com',
        proposedArgs: { order_id: 'O-9421', amount_usd: 350 },
        approvedArgs: { order_id: 'O-9421', amount_usd: 350 },
      });
      expect(await decidedRow(decision.requestId)).toMatchObject({ actor: 'lead@example.com', decision: { outcome: 'approved' } });

      // Reloading the result re-sends the form: nothing is decided twice, and the page says who decided.
      const again = await page.reload();
      expect(again?.request().method()).toBe('POST');
      expect(again?.status()).toBe(409);
      expect(await page.getByText('Already decided by lead@example.com; your response was not recorded.').isVisible()).toBe(true);
      await screenshot(page, 'second-post');
      expect(await decidedRow(decision.requestId)).toMatchObject({ actor: 'lead@example.com', decision: { outcome: 'approved', decidedAt: decision.decidedAt } });
    });
  });

  it('deny with a reason: the execution succeeds with a denial that carries it', async () => {
    const { executionArn, messageId } = await requestRefund('lead2@example.com');
    await withContext(DESKTOP, async (context) => {
      const page = await openFromMailViewer(context, messageId);
      await expectFullCard(page);

      await page.getByText('Deny…', { exact: true }).click();
      await page.getByLabel('Why not?').fill('refunds over $250 need the order to be returned first');
      await page.getByRole('button', { name: 'Deny', exact: true }).click();
      await page.getByText('Denied — the agent has been told, with your reason.').waitFor();
      await screenshot(page, 'denied');

      const decision = await finalDecision(executionArn);
      expect(decision).toMatchObject({ outcome: 'denied', decidedBy: 'lead2@example.com', reason: 'refunds over $250 need the order to be returned first' });
      expect(decision.approvedArgs).toBeUndefined();
      expect(await decidedRow(decision.requestId)).toMatchObject({
        actor: 'lead2@example.com',
        decision: { outcome: 'denied', reason: 'refunds over $250 need the order to be returned first' },
      });
    });
  });

  it('modify an argument: amount_usd 350 → 300 is approved with the change', async () => {
    const { executionArn, messageId } = await requestRefund('lead@example.com');
    await withContext(DESKTOP, async (context) => {
      const page = await openFromMailViewer(context, messageId);
      await expectFullCard(page);

      await page.getByText('Modify and approve…', { exact: true }).click();
      const amount = page.getByLabel('amount_usd');
      expect(await amount.inputValue()).toBe('350');
      await amount.fill('300');
      await page.getByRole('button', { name: 'Approve with changes', exact: true }).click();
      await page.getByText('Approved with your changes — the agent has been told.').waitFor();
      await screenshot(page, 'modified');

      const decision = await finalDecision(executionArn);
      expect(decision).toMatchObject({
        outcome: 'modified',
        decidedBy: 'lead@example.com',
        proposedArgs: { order_id: 'O-9421', amount_usd: 350 },
        approvedArgs: { order_id: 'O-9421', amount_usd: 300 },
      });
      expect(await decidedRow(decision.requestId)).toMatchObject({ actor: 'lead@example.com', decision: { outcome: 'modified', approvedArgs: { amount_usd: 300 } } });
    });
  });

  it('at 375 px wide the review page fits without horizontal scrolling and its buttons are on screen', async () => {
    const { executionArn, messageId } = await requestRefund('lead@example.com');
    await withContext(PHONE, async (context) => {
      const page = await openFromMailViewer(context, messageId);
      await expectFullCard(page);
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      for (const summary of ['Deny…', 'Modify and approve…']) await page.getByText(summary, { exact: true }).click();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      for (const name of [APPROVE, 'Deny', 'Approve with changes']) {
        const box = await page.getByRole('button', { name, exact: true }).boundingBox();
        expect(box, name).not.toBeNull();
        expect(box!.x).toBeGreaterThanOrEqual(0);
        expect(box!.x + box!.width, name).toBeLessThanOrEqual(PHONE.width);
        expect(box!.height, `${name} is a comfortable tap target`).toBeGreaterThanOrEqual(44);
      }
      await screenshot(page, 'review-page-375');

      await page.getByRole('button', { name: APPROVE, exact: true }).click();
      await page.getByText('Approved — the agent has been told.').waitFor();
      expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(PHONE.width);
      await screenshot(page, 'approved-375');
      expect(await finalDecision(executionArn)).toMatchObject({ outcome: 'approved', decidedBy: 'lead@example.com' });
    });
  });
});
