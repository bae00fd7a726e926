import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROJECT_DIR } from '../../scripts/vm/project';

test('npm run demo -- --check boots the demo and sees its banner', () => {
  const result = spawnSync(join(PROJECT_DIR, 'node_modules', '.bin', 'tsx'), ['scripts/demo.ts', '--check'], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  assert.is(result.stdout, 'demo check: banner shown, disk unchanged\n');
  assert.is(result.status, 0);
});

test.run();
