// Real boots: Debian's kernel, our initramfs, a read-only ext4 disk with a
// busybox root whose init reports what it sees.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage } from '../../scripts/vm/image';
import { makeGuestDisk, REPORTING_INIT, sha256File } from '../../scripts/vm/guest';
import { boot, handoffSeconds } from '../../scripts/vm/qemu';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('reporting', { init: REPORTING_INIT });
});

function guest(console: string, key: string): string[] {
  return [...console.matchAll(new RegExp(`^GUEST ${key}=(.*?)\\r?$`, 'gm'))].map((m) => m[1] ?? '');
}

function assertCleanBoot(console: string, logFile: string): void {
  assert.not.match(console, /Kernel panic/, `kernel panic, see ${logFile}`);
  assert.ok(console.includes('GUEST done'), `the root's init did not finish, see ${logFile}`);
}

test('unionfs: the root init runs as PID 1 with 5 on a writable fuse.unionfs root; the disk is unchanged', async () => {
  const before = sha256File(disk);
  const result = await boot({
    name: 'unionfs',
    initrd: image,
    drives: [`file=${disk},if=virtio,format=raw`],
    append: 'console=ttyS0 root=/dev/vda overlay=unionfs 5',
  });
  assertCleanBoot(result.console, result.logFile);
  assert.equal(guest(result.console, 'pid'), ['1 args=5']);
  assert.equal(guest(result.console, 'rootfs'), ['fuse.unionfs']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.equal(guest(result.console, 'mounted'), ['/dev', '/dev/pts', '/proc', '/sys', '/run', '/run/initramfs/ro', '/run/initramfs/cow']);
  assert.equal(guest(result.console, 'initlog'), ['yes']);
  assert.ok(Number(guest(result.console, 'kmsg-lines')[0]) >= 8, 'every stage is in dmesg');
  assert.match(result.console, /cowboot: stage union: done in \d+ ms/);
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
  assertCleanBoot(result.console, result.logFile);
  assert.equal(guest(result.console, 'pid'), ['1 args=3']);
  assert.not.match(result.console, /cowboot: stage/);
  assert.ok(Number(guest(result.console, 'kmsg-lines')[0]) >= 8, 'quiet still logs to dmesg');
});

test('a failed stage names the command and opens a shell; exit retries the stage; PID 1 survives', async () => {
  const result = await boot({
    name: 'rescue',
    initrd: image,
    drives: [`file=${disk},if=virtio,format=raw`],
    append: 'console=ttyS0 root=/dev/vda rootfstype=squashfs rootdelay=5',
    dialogue: [
      { waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'echo ANSWER-$((6*7))\n' },
      { waitFor: /ANSWER-42[\s\S]*?# /, send: 'exit\n' },
      { waitFor: /stage root: trying again[\s\S]*?cowboot rescue shell[\s\S]*?# /, send: 'poweroff -f\n' },
    ],
    timeoutMs: 120_000,
  });
  assert.not.match(result.console, /Kernel panic/, `kernel panic, see ${result.logFile}`);
  assert.not.ok(result.timedOut, `the dialogue did not finish, see ${result.logFile}`);
  assert.match(result.console, /stage root failed: mount exited with status \d+/);
  assert.match(result.console, /command: mount -t squashfs -o ro \/dev\/vda \/run\/initramfs\/ro/);
  assert.match(result.console, /Boot stopped in stage "root"/);
  assert.match(result.console, /ANSWER-42/);
});

test.run();
