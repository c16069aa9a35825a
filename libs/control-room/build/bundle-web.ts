/**
 * Bundles the control room page (libs/control-room/web) with esbuild into dist/libs/control-room/web, where the
 * built service serves it from (/ui). `npm run build` and `npm start` run it after `nest build` (which empties
 * dist/); the browser test runs it itself.
 *
 *   node --disable-warning=MODULE_TYPELESS_PACKAGE_JSON libs/control-room/build/bundle-web.ts
 *
 * Output: index.html, main.js (an ES module), main.css, and the chunks main.js imports lazily (the Datadog RUM SDK,
 * `rum-<hash>.js`, fetched only when RUM is configured). Minified, no source maps, licences kept at the end of files.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

export const WEB_SOURCE_DIR = 'libs/control-room/web';
export const WEB_OUT_DIR = 'dist/libs/control-room/web';

export interface BundleOptions {
  /** The repository's root (default: the working directory). */
  root?: string;
  /** Where to write, relative to `root` (default dist/libs/control-room/web). */
  outDir?: string;
  minify?: boolean;
}

/** Builds the page; resolves with the folder written and its files. */
export async function bundleControlRoom(options: BundleOptions = {}): Promise<{ outDir: string; files: string[] }> {
  const root = resolve(options.root ?? process.cwd());
  const source = join(root, WEB_SOURCE_DIR);
  const outDir = resolve(root, options.outDir ?? WEB_OUT_DIR);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  await build({
    absWorkingDir: root,
    entryPoints: { main: join(source, 'main.ts') },
    tsconfig: join(source, 'tsconfig.json'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
    outdir: outDir,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    assetNames: '[name]-[hash]',
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'eof',
    logLevel: 'warning',
  });
  copyFileSync(join(source, 'index.html'), join(outDir, 'index.html'));
  return { outDir, files: readdirSync(outDir).sort() };
}

if (process.argv[1] !== undefined && /bundle-web\.[cm]?[jt]s$/.test(process.argv[1])) {
  const started = Date.now();
  bundleControlRoom().then(
    ({ outDir, files }) =>
      process.stdout.write(`control room bundled into ${outDir} (${files.join(', ')}) in ${Date.now() - started} ms\n`),
    (error: unknown) => {
      process.stderr.write(`control room bundle failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
