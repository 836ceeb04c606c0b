/**
 * Handler bundle sizes: each functions/*.ts bundled by esbuild with the options the stack's NodejsFunction
 * uses (infra/constructs/handler-function.ts): minified ESM for node22 with the createRequire banner,
 * `module` before `main`, the AWS SDK bundled in, source map in its own file.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ESM_REQUIRE_BANNER } from '#infra/constructs/handler-function.ts';

export interface BundleSize {
  /** `functions/respond.ts` */
  entry: string;
  /** Bytes of the minified index.mjs (without its source map). */
  raw: number;
  gzip: number;
  /** Bytes of the separate source map. */
  sourceMap: number;
}

export async function bundleSizes(repoRoot: string): Promise<BundleSize[]> {
  const entries = readdirSync(join(repoRoot, 'functions'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort()
    .map((f) => `functions/${f}`);
  const sizes: BundleSize[] = [];
  for (const entry of entries) {
    const result = await build({
      absWorkingDir: repoRoot,
      entryPoints: [entry],
      outfile: 'index.mjs',
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      mainFields: ['module', 'main'],
      banner: { js: ESM_REQUIRE_BANNER },
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      logLevel: 'error',
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
    if (!code) throw new Error(`esbuild produced no bundle for ${entry}`);
    sizes.push({ entry, raw: code.contents.byteLength, gzip: gzipSync(code.contents).byteLength, sourceMap: map?.contents.byteLength ?? 0 });
  }
  return sizes;
}
