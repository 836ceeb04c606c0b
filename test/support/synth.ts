/**
 * Synthesizes the hitl stack for tests: offline and fast, with asset bundling skipped (stack tests do not
 * run esbuild) and CDK's built-in CloudFormation validation off unless a test asks for it.
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { HitlStack, type HitlStackProps } from '#infra/hitl-stack.ts';
import type { DeploymentConfigInput } from '#shared/schemas/config.ts';

export const TEST_STACK_NAME = 'HitlTest';

/** Two groups, one with business hours, so per-group resources and the backstop can be checked. */
export const TEST_CONFIG = {
  sender: 'hitl@example.com',
  lowRiskClasses: ['read-only'],
  reviewerGroups: {
    'support-leads': {
      tiers: [
        { name: 'support leads', members: ['lead@example.com'] },
        { name: 'support managers', members: ['manager@example.com'] },
      ],
      timeZone: 'Europe/London',
      businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
      defaultTtlSeconds: 1800,
      maxTtlSeconds: 7200,
    },
    finance: {
      tiers: [{ name: 'controllers', members: ['controller@example.com'] }],
      maxTtlSeconds: 3600,
    },
  },
  alarms: { oldestPendingAgeSeconds: 900, dlqDepth: 2 },
} satisfies DeploymentConfigInput;

/** TEST_CONFIG with the Slack channel: one member on both channels, one on Slack only. */
export const SLACK_TEST_CONFIG = {
  ...TEST_CONFIG,
  slack: { channel: 'C0REVIEWS' },
  reviewerGroups: {
    ...TEST_CONFIG.reviewerGroups,
    finance: { tiers: [{ name: 'controllers', members: [{ email: 'controller@example.com', slack: 'U0CONTROL' }, { slack: 'U0AUDITOR' }] }], maxTtlSeconds: 3600 },
  },
} satisfies DeploymentConfigInput;

/** cdk.json's feature flags, so tests synthesize what `cdk synth` would (its sample config is left out). */
export function cdkJsonFeatureFlags(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(cdkJson.context ?? {}).filter(([key]) => key.startsWith('@aws-cdk/')));
}

export interface SynthOptions extends Partial<Omit<HitlStackProps, 'config'>> {
  /** Deployment config as written; defaults to TEST_CONFIG. */
  config?: unknown;
  stackName?: string;
  /** Run CDK's built-in CloudFormation validation and fail synth on its errors (slow: a WASM engine starts). */
  validateTemplate?: boolean;
}

/** Builds the stack in a fresh App; returns both so tests can inspect the construct tree. */
export function buildStack(options: SynthOptions = {}): { app: App; stack: HitlStack } {
  const { config = TEST_CONFIG, stackName = TEST_STACK_NAME, validateTemplate = false, ...props } = options;
  const app = new App({
    context: {
      ...cdkJsonFeatureFlags(),
      'aws:cdk:bundling-stacks': [],
      ...(validateTemplate ? { '@aws-cdk/core:validateAgainstDefaultRules': true } : {}),
    },
    builtinCloudFormationValidation: validateTemplate,
  });
  const stack = new HitlStack(app, stackName, { config, ...props });
  return { app, stack };
}

export function synthTemplate(options: SynthOptions = {}): Template {
  return Template.fromStack(buildStack(options).stack);
}

/** Logical id of the one resource of `type` whose logical id starts with `prefix` (construct path without slashes). */
export function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one ${type} with a logical id starting ${prefix}, found ${ids.length}: ${ids.join(', ')}`);
  return ids[0] as string;
}

export const PLACEHOLDER = { partition: 'aws', region: 'us-east-1', account: '123456789012' } as const;

/** Resolves the intrinsics CDK puts in a DefinitionString: pseudo parameters and function ARNs get placeholders. */
function resolveIntrinsic(node: unknown): string {
  if (typeof node === 'string') return node;
  const o = node as Record<string, unknown>;
  if (typeof o.Ref === 'string') {
    const pseudo: Record<string, string> = {
      'AWS::Partition': PLACEHOLDER.partition,
      'AWS::Region': PLACEHOLDER.region,
      'AWS::AccountId': PLACEHOLDER.account,
      'AWS::URLSuffix': 'amazonaws.com',
    };
    return pseudo[o.Ref] ?? o.Ref;
  }
  if (Array.isArray(o['Fn::GetAtt'])) {
    const [id, attribute] = o['Fn::GetAtt'] as [string, string];
    if (attribute !== 'Arn') throw new Error(`unexpected GetAtt ${id}.${attribute} in the definition`);
    return `arn:${PLACEHOLDER.partition}:lambda:${PLACEHOLDER.region}:${PLACEHOLDER.account}:function:${id}`;
  }
  if (Array.isArray(o['Fn::Join'])) {
    const [delimiter, parts] = o['Fn::Join'] as [string, unknown[]];
    return parts.map(resolveIntrinsic).join(delimiter);
  }
  throw new Error(`unexpected intrinsic in the definition: ${JSON.stringify(node)}`);
}

export interface AslDefinition {
  StartAt: string;
  QueryLanguage?: string;
  States: Record<string, Record<string, unknown>>;
}

/** The state machine's ASL as deployed, with placeholder ARNs (function ARNs end in the function's logical id). */
export function stateMachineDefinition(template: Template): AslDefinition {
  const machines = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  const definition = (machines[0]?.Properties as { DefinitionString: unknown }).DefinitionString;
  return JSON.parse(resolveIntrinsic(definition)) as AslDefinition;
}
