// Every union kind on a disk: a device-mapper snapshot with its COW in a
// sparse tmpfs file or a RAM disk, kernel overlayfs, no union at all; and a
// COW that runs full.

import { copyFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk, REPORTING_INIT, sha256File } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { boot, type BootResult, handoffSeconds } from '../../scripts/vm/qemu';
import { assertCleanBoot, guest } from './report';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('union', { init: REPORTING_INIT });
});

async function diskBoot(name: string, append: string, drive = disk): Promise<BootResult> {
  const before = sha256File(drive);
  const result = await boot({ name, initrd: image, drives: [`file=${drive},if=virtio,format=raw`], append: `console=ttyS0 root=/dev/vda ${append}` });
  assertCleanBoot(result);
  if (drive === disk) assert.is(sha256File(drive), before, 'the read-only medium was written');
  console.log(`  ${name} handoff: ${handoffSeconds(result.console, /GUEST uptime=([\d.]+)/)?.toFixed(2)} s`);
  return result;
}

test('overlay=dm cow=tmpfs: a writable snapshot in a sparse file on tmpfs', async () => {
  const result = await diskBoot('dm-tmpfs', 'overlay=dm cow=tmpfs');
  assert.equal(guest(result.console, 'rootdev'), ['/dev/mapper/cowboot-root']);
  assert.equal(guest(result.console, 'rootfs'), ['ext4']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.equal(guest(result.console, 'loop'), ['loop0 /run/initramfs/cow/snapshot-cow']);
  assert.match(result.console, /snapshot \/dev\/mapper\/cowboot-root: 0 131072 snapshot \/dev\/vda \/dev\/loop0 PO 8/);
  assert.match(result.console, /copy-on-write space: \d+\.\d MiB \(cowsize not set: 50% of RAM/);
});

test('overlay=dm cow=ram cowsize=64M: the COW on a brd RAM disk, as in the seed', async () => {
  const result = await diskBoot('dm-ram', 'overlay=dm cow=ram cowsize=64M');
  assert.equal(guest(result.console, 'rootdev'), ['/dev/mapper/cowboot-root']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.match(result.console, /snapshot \/dev\/mapper\/cowboot-root: 0 131072 snapshot \/dev\/vda \/dev\/ram0 PO 8/);
  assert.match(result.console, /copy-on-write space: 64M \(cowsize=64M/);
});

test('overlay=overlayfs: kernel overlayfs, upper and work on the COW tmpfs', async () => {
  const result = await diskBoot('overlayfs', 'overlay=overlayfs cowsize=25%');
  assert.equal(guest(result.console, 'rootfs'), ['overlay']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.equal(guest(result.console, 'mounted'), ['/dev', '/dev/pts', '/proc', '/sys', '/run', '/run/initramfs/ro', '/run/initramfs/cow']);
});

test('overlay=none: the root as it is, read-only', async () => {
  const result = await diskBoot('none', 'overlay=none');
  assert.equal(guest(result.console, 'rootfs'), ['ext4']);
  assert.equal(guest(result.console, 'writable'), ['no']);
});

test('overlay=none rw: the root read-write, and so written', async () => {
  const copy = `${disk}.rw`;
  copyFileSync(disk, copy);
  const before = sha256File(copy);
  const result = await diskBoot('none-rw', 'overlay=none rw', copy);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.is.not(sha256File(copy), before, 'rw writes the medium, as asked');
});

test('a full COW: writes fail with an error, reads go on, the guest powers off, no panic', async () => {
  const fill = makeGuestDisk('cow-full', {
    init: `#!/bin/sh
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
echo before > /small-write && sync && echo "GUEST small-write=ok"
if dd if=/dev/urandom of=/big bs=1M count=48 conv=fsync 2>/dev/null; then echo "GUEST fill=succeeded"; else echo "GUEST fill=failed"; fi
echo "GUEST read=$(cat /etc/motd) $(cat /small-write)"
echo "GUEST done"
poweroff -f
`,
    files: { '/etc/motd': 'still-readable' },
  });
  const before = sha256File(fill);
  const result = await boot({ name: 'cow-full', initrd: image, drives: [`file=${fill},if=virtio,format=raw`], append: 'console=ttyS0 root=/dev/vda overlay=dm cowsize=16M' });
  assertCleanBoot(result);
  assert.equal(guest(result.console, 'small-write'), ['ok']);
  assert.equal(guest(result.console, 'fill'), ['failed']);
  assert.equal(guest(result.console, 'read'), ['still-readable before']);
  assert.match(result.console, /reboot: Power down/);
  assert.is(sha256File(fill), before);
});

test.run();
