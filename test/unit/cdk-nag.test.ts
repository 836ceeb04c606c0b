import { describe, expect, it } from 'vitest';
import { Validations, type PolicyValidationPluginReport } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { addComplianceChecks } from '#infra/compliance.ts';
import { buildStack, SLACK_TEST_CONFIG, TEST_CONFIG } from '../support/synth.ts';

/** The test config with decision webhooks on: the webhook function, its rule and its secret are built. */
const WITH_WEBHOOKS = { config: { ...TEST_CONFIG, webhooks: { allowedHosts: ['agent.example.com'] } } };

/** Tracing on, a throwaway stack (auto-deleted buckets) and alarm emails (their subscriptions' dead-letter queue). */
const TRACED_DEV = { config: { ...TEST_CONFIG, dev: true, tracing: true, alarms: { ...TEST_CONFIG.alarms, emails: ['ops@example.com'] } } };

function findings(report: PolicyValidationPluginReport): string[] {
  return report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}`));
}

/** Every acknowledgement in the tree: where, which rule, why. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^annotation::/i, ''), reason })),
      ),
  );
}

/** The same checks with acknowledgements ignored: what the acknowledgements are hiding. */
function unacknowledgedChecks(): AwsSolutionsChecks {
  const pack = new AwsSolutionsChecks();
  Object.defineProperty(pack, 'isAcknowledged', { value: () => false });
  return pack;
}

describe('AWS Solutions checks (cdk-nag)', () => {
  it('find no unacknowledged errors or warnings', () => {
    const { app } = buildStack();
    expect(findings(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
  });

  it('find none with decision webhooks on either', () => {
    const { app, stack } = buildStack(WITH_WEBHOOKS);
    expect(stack.webhooks).toBeDefined();
    expect(findings(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
  });

  it('find none with tracing on, in a throwaway stack with alarm emails', () => {
    const { app } = buildStack(TRACED_DEV);
    expect(findings(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
  });

  it('find no unacknowledged errors or warnings with the Slack channel enabled, and its acknowledgements are real', () => {
    const { app } = buildStack({ config: SLACK_TEST_CONFIG });
    expect(findings(new AwsSolutionsChecks().validateScope(app))).toEqual([]);
    const hidden = unacknowledgedChecks().validateScope(app).violations;
    for (const ack of acknowledgements(app).filter((a) => a.path.includes('/SlackChannel/'))) {
      const where = hidden.find((v) => v.ruleName === ack.id)?.violatingResources.map((r) => r.constructPath) ?? [];
      expect(where.some((p) => p !== undefined && (p === ack.path || p.startsWith(`${ack.path}/`))), `${ack.id} at ${ack.path}`).toBe(true);
    }
  });

  it('run at synth as the app registers them, and pass', () => {
    const { app } = buildStack();
    addComplianceChecks(app);
    expect(() => app.synth()).not.toThrow();
  });

  it('fail synth on a non-compliant resource (the check can fail)', () => {
    const { app, stack } = buildStack();
    new sqs.Queue(stack, 'PlainQueue', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    expect(findings(new AwsSolutionsChecks().validateScope(app))).toContain('error AwsSolutions-SQS4 at HitlTest/PlainQueue/Resource');
    addComplianceChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it.each([['the test config', {}], ['decision webhooks on', WITH_WEBHOOKS], ['tracing on, throwaway, alarm emails', TRACED_DEV]])('acknowledge only real findings, each with a specific reason (%s)', (_name, options) => {
    const { app } = buildStack(options);
    const hidden = unacknowledgedChecks().validateScope(app).violations;
    const acks = acknowledgements(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(60);
      const finding = hidden.find((v) => v.ruleName === ack.id);
      const where = finding?.violatingResources.map((r) => r.constructPath) ?? [];
      expect(
        where.some((p) => p !== undefined && (p === ack.path || p.startsWith(`${ack.path}/`))),
        `${ack.id} acknowledged at ${ack.path} but not found there`,
      ).toBe(true);
    }
  });
});
