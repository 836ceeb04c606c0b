/**
 * `hitl whatif` and `hitl suggest`: a proposed policy replayed over the decision log before it is deployed,
 * and rule changes proposed from the log. The decisions come from the same query as `hitl report`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Node } from 'constructs';
import { readConfigSource } from '#infra/config.ts';
import { ConfigError } from '#shared/errors.ts';
import { printableJson } from '#shared/render/inert-text.ts';
import { formatSuggestions, suggest } from '#shared/policies/suggest.ts';
import { formatWhatIf, passingCount, whatIf } from '#shared/policies/whatif.ts';
import type { DecisionRecord } from '#shared/review/report.ts';
import { parseDeploymentConfig, type DeploymentConfig } from '#shared/schemas/config.ts';

export interface PolicyIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Final decisions of the window, each with its request. */
export type ReadDecisions = () => Promise<DecisionRecord[]>;

export const SUGGESTED_FILE = 'hitl-policy.suggested.json';

/** A deployment config file, validated: a bad field is named by its path. */
export function readConfigFile(file: string): DeploymentConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(resolve(file), 'utf8'));
  } catch (err) {
    throw new ConfigError(`Cannot read ${file} as JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseDeploymentConfig(raw, `policy file ${file}`);
}

/** The deployment's config: `--config <file>`, else what cdk.json in the working directory names. */
export function currentConfig(file: string | undefined, cwd = process.cwd()): DeploymentConfig {
  if (file) return readConfigFile(file);
  const cdkJson = resolve(cwd, 'cdk.json');
  if (!existsSync(cdkJson)) throw new ConfigError('No cdk.json here to read the deployment config from; pass --config <file.json>');
  const context = (JSON.parse(readFileSync(cdkJson, 'utf8')) as { context?: Record<string, unknown> }).context ?? {};
  const node = { tryGetContext: (key: string) => context[key] } as unknown as Node;
  const { input, source } = readConfigSource(node, cwd);
  return parseDeploymentConfig(input, source);
}

/** Exit code 1 when anything a person denied, changed or corrected would pass unreviewed: a CI check. */
export async function whatifCommand(options: { policy?: string; json?: boolean }, read: ReadDecisions, io: PolicyIo): Promise<number> {
  if (!options.policy) throw new ConfigError('hitl whatif needs --policy <file.json>: a deployment config with the proposed policy');
  const proposed = readConfigFile(options.policy);
  const result = whatIf(await read(), proposed);
  io.out(options.json ? printableJson(result, 2) : formatWhatIf(result));
  return passingCount(result.total) > 0 ? 1 : 0;
}

export async function suggestCommand(
  options: { config?: string; out?: string; minDecisions?: number; sampleRate?: number; json?: boolean },
  read: ReadDecisions,
  io: PolicyIo,
): Promise<number> {
  const config = currentConfig(options.config);
  const result = suggest(await read(), config, { minDecisions: options.minDecisions, sampleRate: options.sampleRate });
  let wrote: string | undefined;
  if (result.proposal) {
    // Checked like any config before it is written, so whatif and synth accept it.
    const proposal = parseDeploymentConfig(result.proposal, 'the suggested config');
    wrote = options.out ?? SUGGESTED_FILE;
    writeFileSync(resolve(wrote), `${JSON.stringify(proposal, null, 2)}\n`);
  }
  if (options.json) {
    io.out(printableJson({ suggestions: result.suggestions, ...(wrote ? { wrote } : {}) }, 2));
  } else {
    io.out(formatSuggestions(result, config.policy !== undefined));
    if (wrote) io.err(`wrote ${wrote}; check it before deploying: hitl whatif --policy ${wrote}`);
  }
  return 0;
}
