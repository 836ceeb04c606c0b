import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { App } from 'aws-cdk-lib';
import { ConfigError } from '#shared/errors.ts';
import { readConfigSource } from '#infra/config.ts';
import { buildStack, TEST_CONFIG } from '../support/synth.ts';

const dir = mkdtempSync(join(tmpdir(), 'hitl-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const nodeWith = (context: Record<string, unknown>) => new App({ context }).node;

describe('deployment config source', () => {
  it('reads the inline object under context "hitl"', () => {
    expect(readConfigSource(nodeWith({ hitl: TEST_CONFIG }))).toEqual({ input: TEST_CONFIG, source: 'context hitl' });
  });

  it('accepts context "hitl" given as a JSON string on the command line', () => {
    expect(readConfigSource(nodeWith({ hitl: JSON.stringify(TEST_CONFIG) })).input).toEqual(TEST_CONFIG);
  });

  it('prefers the file named by context "hitlConfigFile", relative to the working directory', () => {
    writeFileSync(join(dir, 'prod.json'), JSON.stringify({ ...TEST_CONFIG, sender: 'prod@example.com' }));
    const source = readConfigSource(nodeWith({ hitl: TEST_CONFIG, hitlConfigFile: 'prod.json' }), dir);
    expect(source.source).toBe('hitl config file prod.json');
    expect((source.input as { sender: string }).sender).toBe('prod@example.com');
  });

  it('fails with the reason when the config is missing, unreadable or not JSON', () => {
    expect(() => readConfigSource(nodeWith({}))).toThrow(ConfigError);
    expect(() => readConfigSource(nodeWith({}))).toThrow(/set context "hitl"/);
    expect(() => readConfigSource(nodeWith({ hitlConfigFile: 'missing.json' }), dir)).toThrow(/Cannot read the hitl config file missing\.json/);
    writeFileSync(join(dir, 'broken.json'), '{ "sender": ');
    expect(() => readConfigSource(nodeWith({ hitlConfigFile: 'broken.json' }), dir)).toThrow(/broken\.json is not valid JSON/);
  });

  it('names the file and the bad field when synth validates a file config', () => {
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...TEST_CONFIG, alarms: { dlqDepth: 0 } }));
    const { input, source } = readConfigSource(nodeWith({ hitlConfigFile: 'bad.json' }), dir);
    expect(() => buildStack({ config: input, configSource: source })).toThrow(/Invalid hitl config file bad\.json:\n\s+- alarms\.dlqDepth:/);
  });

  it('accepts the sample config in cdk.json', async () => {
    const cdkJson = (await import('../../cdk.json', { with: { type: 'json' } })).default as { context: { hitl: unknown } };
    expect(() => buildStack({ config: cdkJson.context.hitl })).not.toThrow();
  });
});
