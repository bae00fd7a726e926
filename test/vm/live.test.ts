// The live-CD flow: an ISO on a virtio-scsi CD-ROM holding a squashfs and an
// ext2 image (seed 004's), with each union on top, and toram.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk, makeIso, makeSquashfs, REPORTING_INIT, sha256File } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { boot, type BootResult, cdrom, handoffSeconds } from '../../scripts/vm/qemu';
import { assertCleanBoot, guest } from './report';

let image = '';
let iso = '';

test.before(() => {
  image = buildImage('cowboot');
  iso = makeIso('live', 'COWBOOT_LIVE', {
    '/live/filesystem.squashfs': makeSquashfs('live-squashfs', { init: REPORTING_INIT }),
    '/live/rootfs.ext2': makeGuestDisk('live-ext2', { init: REPORTING_INIT, sizeMiB: 48 }, 'ext2'),
  });
});

async function cdBoot(name: string, append: string, finish = true): Promise<BootResult> {
  const before = sha256File(iso);
  const result = await boot({
    name,
    initrd: image,
    devices: cdrom(iso),
    append: `console=ttyS0 root=/dev/sr0 ${append}`,
    ...(finish ? {} : { dialogue: [{ waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'echo ANSWER-$((6*7)); poweroff -f\n' }] }),
    timeoutMs: 150_000,
  });
  if (finish) {
    assertCleanBoot(result);
    console.log(`  ${name} handoff: ${handoffSeconds(result.console, /GUEST uptime=([\d.]+)/)?.toFixed(2)} s`);
  }
  assert.is(sha256File(iso), before, 'the ISO was written');
  return result;
}

test('squashfs on a CD with overlayfs: the medium stays reachable under /run/initramfs/live', async () => {
  const result = await cdBoot('live-overlayfs', 'loop=/live/filesystem.squashfs overlay=overlayfs');
  assert.equal(guest(result.console, 'rootfs'), ['overlay']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.ok(guest(result.console, 'mounted').includes('/run/initramfs/live'));
  assert.equal(guest(result.console, 'sr0-mounts'), ['1']);
  assert.equal(guest(result.console, 'loop'), ['loop0 /run/initramfs/live/live/filesystem.squashfs']);
});

test('squashfs on a CD with unionfs', async () => {
  const result = await cdBoot('live-unionfs', 'loop=/live/filesystem.squashfs overlay=unionfs');
  assert.equal(guest(result.console, 'rootfs'), ['fuse.unionfs']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
});

test("an ext2 image on a CD with a dm snapshot: seed 004's live CD", async () => {
  const result = await cdBoot('live-dm', 'loop=/live/rootfs.ext2 overlay=dm cow=ram cowsize=32M');
  assert.equal(guest(result.console, 'rootdev'), ['/dev/mapper/cowboot-root']);
  assert.equal(guest(result.console, 'rootfs'), ['ext2']);
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.ok(guest(result.console, 'mounted').includes('/run/initramfs/live'));
});

test('toram: the image is copied to RAM and the CD is let go', async () => {
  const result = await cdBoot('live-toram', 'loop=/live/filesystem.squashfs overlay=overlayfs toram');
  assert.equal(guest(result.console, 'writable'), ['yes']);
  assert.equal(guest(result.console, 'pid'), ['1 args=5'], 'toram is ours, not an argument for init');
  assert.equal(guest(result.console, 'sr0-mounts'), ['0']);
  assert.not.ok(guest(result.console, 'mounted').includes('/run/initramfs/live'));
  assert.equal(guest(result.console, 'loop'), ['loop0 /run/initramfs/toram/filesystem.squashfs']);
  assert.match(result.console, /toram: the medium is no longer used and can be removed/);
});

test('overlay=dm on a squashfs image: a clear error that suggests overlayfs or unionfs', async () => {
  const result = await cdBoot('live-dm-squashfs', 'loop=/live/filesystem.squashfs overlay=dm', false);
  assert.not.match(result.console, /Kernel panic/);
  assert.match(result.console, /overlay=dm cannot make squashfs writable/);
  assert.match(result.console, /hint: use overlay=overlayfs or overlay=unionfs for this root/);
  assert.match(result.console, /ANSWER-42/);
});

test.run();
