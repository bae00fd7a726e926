// Real boots: Debian's kernel, our initramfs, a read-only ext4 disk with a
// busybox root whose init reports what it sees.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage, withStoredFiles } from '../../scripts/vm/image';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';
import { HOT_PAGES_PACKED, RUNTIME_IMAGE } from '../../src/layout/image-paths';
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
  assert.not.match(booted.console, /runtime at the handoff/, 'only rd.debug reads smaps');
  const configLines = booted.console.split('\n').filter((l) => l.includes('cowboot: command line:'));
  assert.is(configLines.length, 1, 'each line reaches the console once');
  console.log(`  unionfs handoff: ${booted.handoff?.toFixed(2)} s from "Run /init" to the root's init`);
});

let hotImage = '';

test('--hot-pages yes: Node maps its start-up pages from node.hot; the root\'s init does not load the module that mapped them', async () => {
  hotImage = buildImage('cowboot-hot', ['--hot-pages', 'yes']);
  const booted = await bootMedium({ name: 'hot-pages', image: hotImage, medium: { disks: [disk] }, append: 'root=/dev/vda overlay=overlayfs rd.debug 5' });
  assert.equal(booted.report('pid'), ['1 args=5']);
  const pages = /cowboot: runtime at the handoff: its pages in use: ([\d.]+) MiB from \/lib\/cowboot\/node\.hot \((\d+) runs\), ([\d.]+) MiB read from its image/.exec(booted.console);
  assert.ok(pages, `no hot pages mapped, see ${booted.result.logFile}`);
  assert.ok(Number(pages[1]) > 10, pages[0]);
  assert.not.match(booted.console, /node\.hot is not used|could not unpack/);
  assert.equal(booted.report('ld-audit'), [], "LD_AUDIT is not in the environment of the root's init");
  console.log(`  ${pages[0].replace('cowboot: ', '')}`);
});

/** The hot image's node.hot.lz4, changed by `change` (on the unpacked node.hot, or on the packed file with `packed`). */
function withHotPages(name: string, change: (bytes: Buffer) => Buffer, packed = false): string {
  const work = join(VM_CACHE, `${name}.hot`);
  writeFileSync(`${work}.lz4`, execFileSync(process.execPath, ['bin/cowboot.mjs', 'cat', hotImage, HOT_PAGES_PACKED], { cwd: PROJECT_DIR, maxBuffer: 1 << 30 }));
  if (packed) writeFileSync(`${work}.lz4`, change(readFileSync(`${work}.lz4`)));
  else {
    execFileSync('lz4', ['-d', '-q', '-f', `${work}.lz4`, work]);
    writeFileSync(work, change(readFileSync(work)));
    execFileSync('lz4', ['-q', '-f', work, `${work}.lz4`]);
  }
  return withStoredFiles(hotImage, { [HOT_PAGES_PACKED]: readFileSync(`${work}.lz4`) }, join(VM_CACHE, `${name}.img`));
}

test('hot pages damaged (a flipped byte) or not unpackable (cut short): Node starts from its image alone, and the root boots', async () => {
  const flipped = withHotPages('hot-flipped', (hot) => {
    hot.writeUInt8(hot.readUInt8(hot.length - 5000) ^ 0x40, hot.length - 5000);
    return hot;
  });
  const cut = withHotPages('hot-cut', (lz4) => lz4.subarray(0, lz4.length >> 1), true);
  for (const [name, medium, says] of [['hot-flipped', flipped, 'cowboot: /lib/cowboot/node.hot is not used (its checksum does not match: it is damaged); the runtime starts from its image alone'], ['hot-cut', cut, 'cowboot: could not unpack /lib/cowboot/node.hot.lz4; the runtime starts from its image alone']] as const) {
    const booted = await bootMedium({ name, image: medium, medium: { disks: [disk] }, append: 'root=/dev/vda overlay=overlayfs rd.debug 5' });
    assert.equal(booted.report('pid'), ['1 args=5'], `${name}: the root's init ran`);
    assert.match(booted.console, says);
    assert.match(booted.console, 'cowboot: runtime at the handoff: its pages in use: none from /lib/cowboot/node.hot');
  }
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
