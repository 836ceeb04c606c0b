/** axe-core in a Playwright page: the WCAG 2.1 A/AA and best-practice rules, violations as readable lines. */
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** The phone the browser tests use (CSS pixels). */
export const PHONE = { width: 375, height: 812 };

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

interface AxeViolation {
  id: string;
  impact?: string;
  help: string;
  nodes: { target: string[] }[];
}

/** Run axe on the page as it is now: `violations` one line each, `passes` the ids of the rules that checked something. */
export async function runAxe(page: Page): Promise<{ violations: string[]; passes: string[] }> {
  await page.addScriptTag({ path: AXE_PATH });
  const result = (await page.evaluate(
    'axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } })',
  )) as { violations: AxeViolation[]; passes: { id: string }[] };
  return {
    violations: result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    passes: result.passes.map((p) => p.id),
  };
}
