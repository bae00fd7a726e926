#!/usr/bin/env node
// npm test: type check, unit tests, then the VM boot tests, with one closing
// line counting them all. scripts/setup.mjs has installed what they need.

import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(projectDir, 'node_modules', '.bin', name);

// Output is shown as it comes (a VM suite takes minutes) and kept for uvu's totals.
function step(title, cmd, args) {
  process.stdout.write(`\n== ${title}\n`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: projectDir, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
      process.stdout.write(d);
    });
    child.on('close', (status) => {
      const count = (label) => Number(new RegExp(`${label}:\\s+(?:\\x1b\\[\\d+m)*(\\d+)`).exec(output)?.[1] ?? 0);
      // uvu reports a file's failures after its dots and before its totals; a file that crashed has no report, so its last lines stand in.
      const failures = output.includes('FAIL') ? output.slice(output.indexOf('FAIL'), output.lastIndexOf('Total:')) : output.split('\n').slice(-40).join('\n');
      resolve({ title, ok: status === 0, total: count('Total'), passed: count('Passed'), failures });
    });
  });
}

// The VM files share the images they build with the same arguments (scripts/vm/image.ts): the sources are those of this run.
process.env.COWBOOT_TEST_RUN = `${process.pid}-${Date.now()}`;
const typecheck = await step('type check', bin('tsc'), ['-p', '.']);
const suites = [await step('unit tests', bin('uvu'), ['-r', 'tsx', 'test/unit', '.test.ts$'])];
// One VM file at a time, timed: the run has a budget, and the closing table shows where it went.
const minutes = [];
for (const file of readdirSync(join(projectDir, 'test/vm')).filter((f) => f.endsWith('.test.ts')).sort()) {
  const started = Date.now();
  const suite = await step(`VM boot tests: ${file}`, bin('uvu'), ['-r', 'tsx', 'test/vm', `^${file.replaceAll('.', '\\.')}$`]);
  suites.push(suite);
  minutes.push(`  ${file.padEnd(24)} ${((Date.now() - started) / 60_000).toFixed(1).padStart(5)} min  ${suite.passed}/${suite.total}${suite.ok ? '' : '  FAILED'}`);
}
process.stdout.write(`\n== VM boot tests by file\n${minutes.join('\n')}\n`);
const passed = suites.reduce((n, s) => n + s.passed, 0);
const total = suites.reduce((n, s) => n + s.total, 0);
// A suite that crashed before counting, or a failed type check, still fails the run.
const failed = total - passed + suites.filter((s) => !s.ok && s.total === s.passed).length + (typecheck.ok ? 0 : 1);
// Repeated last, where a long run's tail (all CI keeps) still shows them.
for (const suite of [typecheck, ...suites].filter((s) => !s.ok)) process.stdout.write(`\n== failed: ${suite.title}\n${suite.failures.trim()}\n`);
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exitCode = failed === 0 ? 0 : 1;
