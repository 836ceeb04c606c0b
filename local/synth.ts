/**
 * Synthesizes the CDK app (infra/app.ts) without bundling the functions, the way the cdk CLI would run it,
 * and reuses the result while its inputs are unchanged. The built-in template validation is skipped here:
 * it takes seconds, and `npm run synth` and the stack tests run it.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { readJsonFile, writeJsonFile } from './json-file.ts';
import type { Template } from './template.ts';

export class SynthError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SynthError';
  }
}

export interface SynthOptions {
  repoRoot: string;
  outDir: string;
  /** Context on top of cdk.json's, e.g. `{ hitl: {...} }` for another deployment config. */
  context?: Record<string, unknown>;
  /** Synthesize even if the inputs did not change. */
  force?: boolean;
}

export interface SynthResult {
  outDir: string;
  stackName: string;
  template: Template;
  /** True when the previous output was reused. */
  cached: boolean;
  durationMs: number;
}

const STAMP = '.hitl-synth.json';
/** What the template depends on: the app, the shared code it imports, the config and the dependency versions. */
const INPUT_DIRS = ['infra', 'shared'];
const INPUT_FILES = ['cdk.json', 'package.json', 'package-lock.json'];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? filesUnder(path) : e.isFile() ? [path] : [];
  });
}

function inputHash(repoRoot: string, context: Record<string, unknown>): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(context));
  // A config file named in the context is an input by its content, not its name.
  const configFile = context.hitlConfigFile;
  if (typeof configFile === 'string' && existsSync(resolve(repoRoot, configFile))) hash.update(readFileSync(resolve(repoRoot, configFile)));
  const files = [...INPUT_DIRS.flatMap((d) => filesUnder(join(repoRoot, d))), ...INPUT_FILES.map((f) => join(repoRoot, f)).filter(existsSync)].sort();
  for (const file of files) hash.update(relative(repoRoot, file)).update(readFileSync(file));
  // Handler entry files only matter by their existence (bundling is skipped).
  const functionsDir = join(repoRoot, 'functions');
  if (existsSync(functionsDir)) hash.update(readdirSync(functionsDir).sort().join('\n'));
  return hash.digest('hex');
}

function readStack(outDir: string): { stackName: string; template: Template } {
  const manifest = readJsonFile<{ artifacts?: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }> }>(join(outDir, 'manifest.json'), {});
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile);
  const loaded = stacks.map(([id, a]) => ({
    stackName: a.properties!.stackName ?? id,
    template: readJsonFile<Template>(join(outDir, a.properties!.templateFile!), { Resources: {} }),
  }));
  const withWorkflow = loaded.filter((s) => Object.values(s.template.Resources ?? {}).some((r) => r.Type === 'AWS::StepFunctions::StateMachine'));
  const stack = withWorkflow[0] ?? loaded[0];
  if (!stack) throw new SynthError(`No CloudFormation stack in ${outDir}`);
  if (withWorkflow.length > 1) throw new SynthError(`The CDK app has several stacks with state machines (${withWorkflow.map((s) => s.stackName).join(', ')}); the local stack runs one`);
  return stack;
}

function cdkContext(repoRoot: string, extra: Record<string, unknown> | undefined): Record<string, unknown> {
  const cdkJson = readJsonFile<{ context?: Record<string, unknown> }>(join(repoRoot, 'cdk.json'), {});
  return { ...cdkJson.context, ...extra, 'aws:cdk:bundling-stacks': [] };
}

export async function synthesize(options: SynthOptions): Promise<SynthResult> {
  const started = Date.now();
  const context = cdkContext(options.repoRoot, options.context);
  const hash = inputHash(options.repoRoot, context);
  const stampPath = join(options.outDir, STAMP);
  if (!options.force && existsSync(stampPath) && readJsonFile<{ hash?: string }>(stampPath, {}).hash === hash) {
    return { outDir: options.outDir, ...readStack(options.outDir), cached: true, durationMs: Date.now() - started };
  }

  rmSync(options.outDir, { recursive: true, force: true });
  const app = join(options.repoRoot, 'infra', 'app.ts');
  if (!existsSync(app) || !statSync(app).isFile()) throw new SynthError(`No CDK app at ${app}`);
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', app], {
      cwd: options.repoRoot,
      env: {
        ...process.env,
        CDK_OUTDIR: options.outDir,
        CDK_CONTEXT_JSON: JSON.stringify(context),
        CDK_VALIDATION: 'false',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const output = stderr.join('').split('\n').filter((l) => l.trim() && !l.includes('npm warn')).slice(-25).join('\n');
    throw new SynthError(`Synthesizing infra/app.ts failed (exit ${code}):\n${output}`);
  }
  writeJsonFile(stampPath, { hash, at: new Date().toISOString() });
  return { outDir: options.outDir, ...readStack(options.outDir), cached: false, durationMs: Date.now() - started };
}
