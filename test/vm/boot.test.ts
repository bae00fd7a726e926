// Real boots: Debian's kernel, our initramfs, a read-only ext4 disk with a
// busybox root whose init reports what it sees.

import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage } from '../../scripts/vm/image';
import { PROJECT_DIR } from '../../scripts/vm/project';
import { RUNTIME_IMAGE } from '../../src/layout/image-paths';
import { makeGuestDisk, REPORTING_INIT } from '../../scripts/vm/guest';
import { bootMedium } from './harness';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('reporting', { init: REPORTING_INIT });
});


test('unionfs: the root init runs as PID 1 with 5 on a writable fuse.unionfs root; the disk is unchanged', async () => {
  const booted = await bootMedium({ name: 'unionfs', image, medium: { disks: [disk] }, append: 'root=/dev/vda overlay=unionfs 5' });
  assert.equal(booted.report('pid'), ['1 args=5']);
  assert.equal(booted.report('rootfs'), ['fuse.unionfs']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('mounted'), ['/dev', '/dev/pts', '/proc', '/sys', '/run', '/run/initramfs/ro', '/run/initramfs/cow']);
  assert.equal(booted.report('initlog'), ['yes']);
  // Detached before switch_root, the runtime's squashfs let go of its loop device when Node's execve dropped it.
  assert.equal(booted.report('loop'), [], "the runtime's image is still attached to a loop device");
  const [daemon] = booted.report('daemon');
  assert.match(daemon ?? '', /^\d+ @unionfs\b.*\/newroot/, 'the unionfs daemon runs with argv[0] @unionfs');
  assert.equal(booted.report('omit'), [daemon?.split(' ')[0]], 'its pid is in /run/sendsigs.omit.d');
  assert.ok(Number(booted.report('kmsg-lines')[0]) >= 8, 'every stage is in dmesg');
  assert.match(booted.console, /cowboot: stage union: done in \d+ ms/);
  const configLines = booted.console.split('\n').filter((l) => l.includes('cowboot: command line:'));
  assert.is(configLines.length, 1, 'each line reaches the console once');
  console.log(`  unionfs handoff: ${booted.handoff?.toFixed(2)} s from "Run /init" to the root's init`);
});

test('quiet keeps our progress off the console; init gets the runlevel given', async () => {
  const booted = await bootMedium({ name: 'unionfs-quiet', image, medium: { disks: [disk] }, append: 'root=/dev/vda quiet 3' });
  assert.equal(booted.report('pid'), ['1 args=3']);
  assert.not.match(booted.console, /cowboot: stage/);
  assert.ok(Number(booted.report('kmsg-lines')[0]) >= 8, 'quiet still logs to dmesg');
});

test('--pack-runtime squashfs-lz4: Node starts from an lz4 image and boots the root', async () => {
  const lz4 = buildImage('cowboot-lz4', ['--pack-runtime', 'squashfs-lz4']);
  const compression = (of: string) => execFileSync(process.execPath, ['bin/cowboot.mjs', 'cat', of, RUNTIME_IMAGE], { cwd: PROJECT_DIR, maxBuffer: 1 << 30 }).readUInt16LE(20);
  // The superblock's compression id (squashfs_fs.h): 5 is lz4, 6 zstd.
  assert.is(compression(lz4), 5, 'the runtime image is compressed with lz4');
  assert.is(compression(image), 6, 'the default image is compressed with zstd');
  const booted = await bootMedium({ name: 'lz4', image: lz4, medium: { disks: [disk] }, append: 'root=/dev/vda overlay=overlayfs 5' });
  assert.equal(booted.report('pid'), ['1 args=5']);
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.equal(booted.report('loop'), [], "the runtime's image is still attached to a loop device");
  console.log(`  lz4 handoff: ${booted.handoff?.toFixed(2)} s from "Run /init" to the root's init`);
});

test.run();
