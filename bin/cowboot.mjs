#!/usr/bin/env node
// The cowboot command from a clone of the repository: bundles the command
// (cli/, TypeScript) with esbuild into dist/cowboot.mjs on each run, then
// runs it. "cowboot install" copies that bundle to /usr/local/lib/cowboot.

import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const outfile = join(projectDir, 'dist', 'cowboot.mjs');
await build({
  entryPoints: [join(projectDir, 'cli', 'main.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
const { main } = await import(pathToFileURL(outfile).href);
process.exitCode = await main(process.argv.slice(2));
