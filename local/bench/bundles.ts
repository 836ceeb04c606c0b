/**
 * Handler bundles as the stack deploys them: a real `cdk synth` (with bundling) of infra/app.ts, then each
 * function's asset (index.mjs) measured for size and for module init: a fresh `node` process importing it
 * with the function's environment, median of 7, beside an empty handler imported the same way. The same
 * handlers bundled with the AWS SDK left out (the Lambda runtime's own SDK, `bundleAwsSDK: false`) are
 * measured the same way, loading the SDK from node_modules as the runtime would from its own.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ESM_REQUIRE_BANNER, HANDLER_METADATA_KEY } from '#infra/constructs/handler-function.ts';

export interface InitTime {
  /** Median wall time of a fresh `node` process that imports the bundle and exits (ms). */
  processMs: number;
  /** Median time of the `import()` itself inside that process (ms). */
  importMs: number;
  /** processMs over the empty handler's processMs. */
  ratio: number;
}

export interface BundleSize {
  /** `functions/respond.ts` */
  entry: string;
  /** Bytes of the minified index.mjs of the synthesized asset (without its source map). */
  raw: number;
  gzip: number;
  /** Bytes of the separate source map. */
  sourceMap: number;
  init: InitTime;
  /** The same handler with `@aws-sdk/*` left to the runtime. */
  runtimeSdk?: { raw: number; init: InitTime };
}

export interface BundleReport {
  /** The empty handler (`export const handler = async () => ({})`) every ratio divides by. */
  empty: { processMs: number; importMs: number };
  runs: number;
  functions: BundleSize[];
}

export interface BundleOptions {
  /** Reuse this synthesized cloud assembly instead of running `cdk synth`. */
  cdkOut?: string;
  /** Also measure the handlers bundled without the AWS SDK. @default true */
  runtimeSdk?: boolean;
  runs?: number;
  progress?: (line: string) => void;
}

interface TemplateFunction {
  Type: string;
  Metadata?: Record<string, unknown>;
  Properties?: { Environment?: { Variables?: Record<string, unknown> } };
}

/** `cdk synth` with bundling, as `cdk deploy` would run it, into `outDir`. */
async function synthWithBundling(repoRoot: string, outDir: string): Promise<void> {
  rmSync(outDir, { recursive: true, force: true });
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn('npx', ['cdk', 'synth', '--no-notices', '--quiet', '--output', outDir], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`cdk synth failed (exit ${code}):\n${stderr.join('').split('\n').slice(-20).join('\n')}`);
}

function templateFunctions(outDir: string): { entry: string; assetDir: string; env: Record<string, string> }[] {
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string } }> };
  const templates = Object.values(manifest.artifacts).filter((a) => a.type === 'aws:cloudformation:stack' && a.properties?.templateFile);
  const found: { entry: string; assetDir: string; env: Record<string, string> }[] = [];
  for (const t of templates) {
    const template = JSON.parse(readFileSync(join(outDir, t.properties!.templateFile!), 'utf8')) as { Resources: Record<string, TemplateFunction> };
    for (const resource of Object.values(template.Resources)) {
      const entry = resource.Metadata?.[HANDLER_METADATA_KEY];
      const asset = resource.Metadata?.['aws:asset:path'];
      if (resource.Type !== 'AWS::Lambda::Function' || typeof entry !== 'string' || typeof asset !== 'string') continue;
      // References to other resources (table names, ARNs) only have to be present at init.
      const env = Object.fromEntries(Object.entries(resource.Properties?.Environment?.Variables ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : placeholderFor(k)]));
      found.push({ entry, assetDir: join(outDir, asset), env });
    }
  }
  return found.sort((a, b) => a.entry.localeCompare(b.entry));
}

/** One fresh process importing `file`: [process wall ms, import ms]. */
function importOnce(file: string, env: Record<string, string>): [number, number] {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const started = performance.now();
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', ...env },
    encoding: 'utf8',
  });
  const wall = performance.now() - started;
  if (run.status !== 0) throw new Error(`Importing ${file} failed:\n${run.stderr}`);
  return [wall, Number(run.stdout)];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

export async function measureBundles(repoRoot: string, options: BundleOptions = {}): Promise<BundleReport> {
  const progress = options.progress ?? (() => undefined);
  const runs = options.runs ?? 7;
  // Under the repository, so a bundle without the SDK resolves it from node_modules.
  const work = join(repoRoot, 'node_modules', '.cache', 'hitl-bench');
  const outDir = options.cdkOut ?? join(work, 'cdk.out');
  if (!options.cdkOut) {
    progress('cdk synth with bundling…');
    await synthWithBundling(repoRoot, outDir);
  }
  const functions = templateFunctions(outDir);
  if (functions.length === 0) throw new Error(`No functions with ${HANDLER_METADATA_KEY} metadata in ${outDir}`);

  rmSync(join(work, 'init'), { recursive: true, force: true });
  const emptyFile = join(work, 'init', 'empty', 'index.mjs');
  mkdirSync(join(work, 'init', 'empty'), { recursive: true });
  writeFileSync(emptyFile, 'export const handler = async () => ({});\n');

  const targets: { key: string; file: string; env: Record<string, string> }[] = [];
  const sizes = new Map<string, BundleSize>();
  for (const fn of functions) {
    const name = fn.entry.replace(/^functions\/|\.ts$/g, '');
    const dir = join(work, 'init', name);
    mkdirSync(dir, { recursive: true });
    for (const f of ['index.mjs', 'index.mjs.map']) if (existsSync(join(fn.assetDir, f))) copyFileSync(join(fn.assetDir, f), join(dir, f));
    const code = readFileSync(join(dir, 'index.mjs'));
    const map = existsSync(join(dir, 'index.mjs.map')) ? readFileSync(join(dir, 'index.mjs.map')) : Buffer.alloc(0);
    sizes.set(fn.entry, { entry: fn.entry, raw: code.byteLength, gzip: gzipSync(code).byteLength, sourceMap: map.byteLength, init: { processMs: 0, importMs: 0, ratio: 0 } });
    targets.push({ key: fn.entry, file: join(dir, 'index.mjs'), env: fn.env });

    if (options.runtimeSdk !== false) {
      // What `bundleAwsSDK: false` builds: the same options with @aws-sdk/* external (and no alias for it).
      const sdkDir = join(work, 'init', `${name}.runtime-sdk`);
      const result = await build({
        absWorkingDir: repoRoot,
        entryPoints: [fn.entry],
        outfile: join(sdkDir, 'index.mjs'),
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node22',
        mainFields: ['module', 'main'],
        banner: { js: ESM_REQUIRE_BANNER },
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        external: ['@aws-sdk/*'],
        logLevel: 'error',
      });
      if (result.errors.length) throw new Error(`esbuild failed for ${fn.entry}`);
      targets.push({ key: `${fn.entry}#runtime-sdk`, file: join(sdkDir, 'index.mjs'), env: fn.env });
    }
  }

  progress(`timing module init: ${targets.length} bundles and the empty handler, ${runs} fresh processes each…`);
  const samples = new Map<string, [number, number][]>([['empty', []], ...targets.map((t) => [t.key, []] as [string, [number, number][]])]);
  // Interleaved, so a burst of load elsewhere spreads over all of them rather than one.
  for (let i = 0; i < runs; i++) {
    samples.get('empty')!.push(importOnce(emptyFile, functions[0]!.env));
    for (const t of targets) samples.get(t.key)!.push(importOnce(t.file, t.env));
  }
  const initOf = (key: string, emptyMs: number): InitTime => {
    const s = samples.get(key)!;
    const processMs = median(s.map((x) => x[0]));
    return { processMs, importMs: median(s.map((x) => x[1])), ratio: processMs / emptyMs };
  };
  const e = samples.get('empty')!;
  const empty = { processMs: median(e.map((x) => x[0])), importMs: median(e.map((x) => x[1])) };
  for (const size of sizes.values()) {
    size.init = initOf(size.entry, empty.processMs);
    const sdk = targets.find((t) => t.key === `${size.entry}#runtime-sdk`);
    if (sdk) size.runtimeSdk = { raw: readFileSync(sdk.file).byteLength, init: initOf(sdk.key, empty.processMs) };
  }
  return { empty, runs, functions: [...sizes.values()] };
}

/** A deploy-time value the template leaves unresolved: a URL where the function parses one at init. */
function placeholderFor(name: string): string {
  return /_URL$/.test(name) ? `https://placeholder.example/${name.toLowerCase()}/` : `placeholder-${name.toLowerCase()}`;
}
