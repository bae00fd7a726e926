#!/usr/bin/env node
// The builder: `node build.mjs bundle` writes dist/init.js; `node build.mjs
// initramfs -o FILE …` packs a bootable initramfs. The builder itself is
// TypeScript (builder/), bundled here with esbuild on each run.

import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectDir = dirname(fileURLToPath(import.meta.url));
const outfile = join(projectDir, 'dist', 'builder.mjs');
await build({
  entryPoints: [join(projectDir, 'builder', 'cli.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(projectDir, process.argv.slice(2));
