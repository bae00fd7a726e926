// The same bundle under Bun: plan mode on the host, and a whole boot with
// Bun as PID 1 (--runtime bun).

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk, REPORTING_INIT } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { PROJECT_DIR } from '../../scripts/vm/project';
import { bootMedium } from './harness';

const BUN = join(PROJECT_DIR, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun');
let image = '';

test.before(() => {
  image = buildImage('cowboot-bun', ['--runtime', 'bun']);
});

test('plan mode prints the same plan under Bun as under Node', () => {
  const args = ['dist/init.js', 'plan', '--cmdline', 'root=LABEL=x overlay=dm cow=ram cowsize=1G 3'];
  const underBun = execFileSync(BUN, args, { cwd: PROJECT_DIR, encoding: 'utf8' });
  assert.is(underBun, execFileSync(process.execPath, args, { cwd: PROJECT_DIR, encoding: 'utf8' }));
  assert.match(underBun, /snapshot \/dev\/sda1 \/dev\/ram0 PO 8/);
});

test('--runtime bun: Bun, from its squashfs image, as PID 1 boots the root over unionfs', async () => {
  const listing = execFileSync(process.execPath, ['bin/cowboot.mjs', 'list', image], { cwd: PROJECT_DIR, encoding: 'utf8' });
  assert.match(listing, /^symlink 0777 \/usr\/bin\/bun -> \/usr\/lib\/cowboot\/runtime\/bun$/m);
  assert.match(listing, /^file +0644 \/lib\/cowboot\/runtime\.squashfs /m);
  assert.not.match(listing, /\/usr\/bin\/node/);
  const disk = makeGuestDisk('bun-root', { init: REPORTING_INIT });
  const booted = await bootMedium({ name: 'bun', image, medium: { disks: [disk] }, append: 'root=LABEL=bun-root panic=5' });
  assert.equal(booted.report('pid'), ['1 args=5']);
  assert.equal(booted.report('rootfs'), ['fuse.unionfs']);
  assert.equal(booted.report('writable'), ['yes']);
  console.log(`  bun handoff: ${booted.handoff?.toFixed(2)} s`);
});

test.run();
