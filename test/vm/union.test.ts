// Every union kind on a disk: a device-mapper snapshot with its COW in a
// sparse tmpfs file or a RAM disk, kernel overlayfs, no union at all; and a
// COW that runs full.

import { copyFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk, REPORTING_INIT } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { testKernel } from '../../scripts/vm/kernel';
import { type Booted, bootMedium } from './harness';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('union', { init: REPORTING_INIT });
});

async function diskBoot(name: string, append: string, drive = disk, writes: readonly string[] = []): Promise<Booted> {
  const booted = await bootMedium({ name, image, medium: { disks: [drive] }, append: `root=/dev/vda ${append}`, writes });
  console.log(`  ${name} handoff: ${booted.handoff?.toFixed(2)} s`);
  return booted;
}

test('overlay=dm cow=tmpfs: a writable snapshot in a sparse file on tmpfs', async () => {
  const booted = await diskBoot('dm-tmpfs', 'overlay=dm cow=tmpfs');
  assert.equal(booted.report('rootdev'), ['/dev/mapper/cowboot-root']);
  assert.equal(booted.report('rootfs'), ['ext4']);
  assert.equal(booted.report('writable'), ['yes']);
  const [loop] = booted.report('loop');
  assert.match(loop ?? '', /^loop\d+ \/run\/initramfs\/cow\/snapshot-cow$/);
  assert.match(booted.console, `snapshot /dev/mapper/cowboot-root: 0 131072 snapshot /dev/vda /dev/${loop?.split(' ')[0]} PO 8`);
  assert.match(booted.console, /copy-on-write space: \d+\.\d MiB \(cowsize not set: 50% of RAM/);
});

test('overlay=dm cow=ram cowsize=64M: the COW on a brd RAM disk, as in the seed', async () => {
  const booted = await diskBoot('dm-ram', 'overlay=dm cow=ram cowsize=64M');
  assert.equal(booted.report('rootdev'), ['/dev/mapper/cowboot-root']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.match(booted.console, /snapshot \/dev\/mapper\/cowboot-root: 0 131072 snapshot \/dev\/vda \/dev\/ram0 PO 8/);
  assert.match(booted.console, /copy-on-write space: 64M \(cowsize=64M/);
});

test('overlay=overlayfs: kernel overlayfs, upper and work on the COW tmpfs', async () => {
  const booted = await diskBoot('overlayfs', 'overlay=overlayfs cowsize=25%');
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('mounted'), ['/dev', '/dev/pts', '/proc', '/sys', '/run', '/run/initramfs/ro', '/run/initramfs/cow']);
});

test('overlay=none: the root as it is, read-only', async () => {
  const booted = await diskBoot('none', 'overlay=none');
  assert.equal(booted.report('rootfs'), ['ext4']);
  assert.equal(booted.report('writable'), ['no']);
});

test('overlay=none rw: the root read-write, and so written', async () => {
  const copy = `${disk}.rw`;
  copyFileSync(disk, copy);
  const booted = await diskBoot('none-rw', 'overlay=none rw', copy, [copy]);
  assert.equal(booted.report('writable'), ['yes']);
});

// The guest powers off with shell builtins and /proc alone: on Linux 6.5 and
// later a full COW shuts the ext4 root down, and nothing more can be read
// from it, not even poweroff's binary. busybox is read whole first, so that
// the shell's own pages come from the page cache then, not from the root.
// The power-off that sysrq starts runs later: init waits for it, in a loop,
// since an init that ends panics the kernel.
// `commit`: a sync between the fill and the read, so that the journal
// commits (and, with nowhere left to write, aborts) before the read, as it
// would within its 5 s on its own; without it, whether the commit comes
// first is a race.
const fillInit = (commit: boolean) => `#!/bin/sh
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
cat /bin/busybox > /dev/null
echo before > /small-write && sync && echo "GUEST small-write=ok"
if dd if=/dev/urandom of=/big bs=1M count=48 conv=fsync 2>/dev/null; then echo "GUEST fill=succeeded"; else echo "GUEST fill=failed"; fi
${commit ? 'sync; sleep 1' : ''}
if read -r motd < /etc/motd && read -r small < /small-write; then echo "GUEST read=$motd $small"; else echo "GUEST read=failed"; fi
echo "GUEST done"
echo o > /proc/sysrq-trigger
while :; do :; done
`;

test('a full COW on Linux 6.1 (bookworm): writes fail with an error, reads go on, the guest powers off, no panic', async () => {
  const fill = makeGuestDisk('cow-full-6.1', { init: fillInit(false), files: { '/etc/motd': 'still-readable\n' } });
  const booted = await bootMedium({ name: 'cow-full-6.1', image: buildImage('cowboot-bookworm', [], 'bookworm'), kernel: testKernel('bookworm').vmlinuz, medium: { disks: [fill] }, append: 'root=/dev/vda overlay=dm cowsize=16M' });
  assert.equal(booted.report('small-write'), ['ok']);
  assert.equal(booted.report('fill'), ['failed']);
  assert.equal(booted.report('read'), ['still-readable before']);
  assert.match(booted.console, /reboot: Power down/);
});

test('a full COW on Linux 6.12 (trixie): the writer gets its error, then ext4 shuts down and reads fail; the medium is unchanged', async () => {
  const fill = makeGuestDisk('cow-full-6.12', { init: fillInit(true), files: { '/etc/motd': 'still-readable\n' } });
  const booted = await bootMedium({ name: 'cow-full-6.12', image, medium: { disks: [fill] }, append: 'root=/dev/vda overlay=dm cowsize=16M' });
  assert.equal(booted.report('small-write'), ['ok']);
  assert.equal(booted.report('fill'), ['failed']);
  assert.match(booted.console, /Aborting journal on device dm-0/);
  assert.equal(booted.report('read'), ['failed']);
  assert.match(booted.console, /reboot: Power down/);
});

test.run();
