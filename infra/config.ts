/**
 * Where the CDK app finds the deployment config: a JSON file named by context `hitlConfigFile`
 * (`cdk synth -c hitlConfigFile=hitl.prod.json`), else the inline object under context `hitl` (cdk.json).
 * Context `hitlDev=true` makes it a throwaway stack (`dev: true`) without editing the config.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Node } from 'constructs';
import { ConfigError } from '#shared/errors.ts';

export const CONFIG_CONTEXT_KEY = 'hitl';
export const CONFIG_FILE_CONTEXT_KEY = 'hitlConfigFile';
export const DEV_CONTEXT_KEY = 'hitlDev';

export interface ConfigSource {
  /** The raw config, validated later by the stack. */
  readonly input: unknown;
  /** Named in error messages: the file path or the context key. */
  readonly source: string;
}

export function readConfigSource(node: Node, cwd = process.cwd()): ConfigSource {
  const source = readConfig(node, cwd);
  const dev = devFlag(node.tryGetContext(DEV_CONTEXT_KEY));
  if (dev === undefined) return source;
  if (!source.input || typeof source.input !== 'object' || Array.isArray(source.input)) return source;
  return { input: { ...source.input, dev }, source: `${source.source} with context ${DEV_CONTEXT_KEY}=${dev}` };
}

/** `-c hitlDev=true` arrives as the string "true"; cdk.json may hold a boolean. */
function devFlag(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new ConfigError(`Context ${DEV_CONTEXT_KEY} must be true or false, got ${JSON.stringify(value)}`);
}

function readConfig(node: Node, cwd: string): ConfigSource {
  const file: unknown = node.tryGetContext(CONFIG_FILE_CONTEXT_KEY);
  if (file !== undefined) {
    if (typeof file !== 'string' || file.trim() === '') {
      throw new ConfigError(`Context ${CONFIG_FILE_CONTEXT_KEY} must be a path to a JSON file, got ${JSON.stringify(file)}`);
    }
    const path = resolve(cwd, file);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (cause) {
      throw new ConfigError(`Cannot read the hitl config file ${file} (context ${CONFIG_FILE_CONTEXT_KEY})`, { cause });
    }
    try {
      return { input: JSON.parse(text), source: `hitl config file ${file}` };
    } catch (cause) {
      throw new ConfigError(`The hitl config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
    }
  }
  const inline: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (inline === undefined) {
    throw new ConfigError(
      `No deployment config: set context "${CONFIG_CONTEXT_KEY}" in cdk.json, or pass -c ${CONFIG_FILE_CONTEXT_KEY}=<file.json>`,
    );
  }
  // `-c hitl='{"sender":…}'` arrives as a string.
  if (typeof inline === 'string') {
    try {
      return { input: JSON.parse(inline), source: `context ${CONFIG_CONTEXT_KEY}` };
    } catch (cause) {
      throw new ConfigError(`Context ${CONFIG_CONTEXT_KEY} is a string but not JSON: ${(cause as Error).message}`, { cause });
    }
  }
  return { input: inline, source: `context ${CONFIG_CONTEXT_KEY}` };
}
