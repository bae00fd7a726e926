import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROJECT_DIR } from '../../scripts/vm/project';

function demo(...args: string[]) {
  return spawnSync(join(PROJECT_DIR, 'node_modules', '.bin', 'tsx'), ['scripts/demo.ts', ...args], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

test('npm run demo -- --check boots the demo from a disk and sees its banner', () => {
  const result = demo('--check');
  assert.is(result.stdout, 'demo check: banner shown, medium unchanged\n');
  assert.is(result.status, 0);
});

test('npm run demo -- --live --overlay dm --check boots it from a CD, seed 004 style', () => {
  const result = demo('--live', '--overlay', 'dm', '--check');
  assert.is(result.stdout, 'demo check: banner shown, medium unchanged\n');
  assert.is(result.status, 0);
});

test('a bad --overlay is named with the valid ones', () => {
  const result = spawnSync(join(PROJECT_DIR, 'node_modules', '.bin', 'tsx'), ['scripts/demo.ts', '--overlay', 'aufs'], { cwd: PROJECT_DIR, encoding: 'utf8' });
  assert.is(result.status, 2);
  assert.match(result.stderr, '--overlay aufs is not valid: expected one of unionfs, dm, overlayfs, none');
});

test.run();
