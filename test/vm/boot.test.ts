// Real boots: Debian's kernel, our initramfs, a read-only ext4 disk with a
// busybox root whose init reports what it sees.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage } from '../../scripts/vm/image';
import { makeGuestDisk, REPORTING_INIT, sha256File } from '../../scripts/vm/guest';
import { boot, handoffSeconds } from '../../scripts/vm/qemu';
import { assertCleanBoot, guest } from './report';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('reporting', { init: REPORTING_INIT });
});


test('unionfs: the root init runs as PID 1 with 5 on a writable fuse.unionfs root; the disk is unchanged', async () => {
  const before = sha256File(disk);
  const result = await boot({
    name: 'unionfs',
    initrd: image,
    drives: [`file=${disk},if=virtio,format=raw`],
    append: 'console=ttyS0 root=/dev/vda overlay=unionfs 5',
  });
  assertCleanBoot(result);
  assert.equal(guest(result.console, 'pid'), ['1 args=5']);
  assert.equal(guest(result.console, 'rootfs'), ['fuse.unionfs']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.equal(guest(result.console, 'mounted'), ['/dev', '/dev/pts', '/proc', '/sys', '/run', '/run/initramfs/ro', '/run/initramfs/cow']);
  assert.equal(guest(result.console, 'initlog'), ['yes']);
  const [daemon] = guest(result.console, 'daemon');
  assert.match(daemon ?? '', /^\d+ @unionfs\b.*\/newroot/, 'the unionfs daemon runs with argv[0] @unionfs');
  assert.equal(guest(result.console, 'omit'), [daemon?.split(' ')[0]], 'its pid is in /run/sendsigs.omit.d');
  assert.ok(Number(guest(result.console, 'kmsg-lines')[0]) >= 8, 'every stage is in dmesg');
  assert.match(result.console, /cowboot: stage union: done in \d+ ms/);
  const configLines = result.console.split('\n').filter((l) => l.includes('cowboot: command line:'));
  assert.is(configLines.length, 1, 'each line reaches the console once');
  assert.equal(sha256File(disk), before, 'the read-only medium was written');
  console.log(`  unionfs handoff: ${handoffSeconds(result.console, /GUEST uptime=([\d.]+)/)?.toFixed(2)} s from "Run /init" to the root's init`);
});

test('quiet keeps our progress off the console; init gets the runlevel given', async () => {
  const result = await boot({
    name: 'unionfs-quiet',
    initrd: image,
    drives: [`file=${disk},if=virtio,format=raw`],
    append: 'console=ttyS0 root=/dev/vda quiet 3',
  });
  assertCleanBoot(result);
  assert.equal(guest(result.console, 'pid'), ['1 args=3']);
  assert.not.match(result.console, /cowboot: stage/);
  assert.ok(Number(guest(result.console, 'kmsg-lines')[0]) >= 8, 'quiet still logs to dmesg');
});

test.run();
