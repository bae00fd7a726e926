#!/usr/bin/env node
// npm test: type check, unit tests, then the VM boot tests, with one closing
// line counting them all. scripts/setup.mjs has installed what they need.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(projectDir, 'node_modules', '.bin', name);

function step(title, cmd, args) {
  process.stdout.write(`\n== ${title}\n`);
  const result = spawnSync(cmd, args, { cwd: projectDir, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 1 << 28 });
  process.stdout.write(result.stdout ?? '');
  const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(result.stdout ?? '')?.[1] ?? 0);
  return { ok: result.status === 0, total: count('Total'), passed: count('Passed') };
}

const typecheck = step('type check', bin('tsc'), ['-p', '.']);
const suites = [
  step('unit tests', bin('uvu'), ['-r', 'tsx', 'test/unit', '.test.ts$']),
  step('VM boot tests', bin('uvu'), ['-r', 'tsx', 'test/vm', '.test.ts$']),
];
const passed = suites.reduce((n, s) => n + s.passed, 0);
const total = suites.reduce((n, s) => n + s.total, 0);
// A suite that crashed before counting still fails the run.
const failed = total - passed + suites.filter((s) => !s.ok && s.total === s.passed).length + (typecheck.ok ? 0 : 1);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 && suites.every((s) => s.ok) ? 0 : 1;
