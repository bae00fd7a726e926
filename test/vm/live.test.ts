// The live-CD flow: an ISO on a virtio-scsi CD-ROM holding a squashfs and an
// ext2 image (seed 004's), with each union on top, and toram.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk, makeIso, makeSquashfs, REPORTING_INIT } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { type Booted, bootMedium } from './harness';

let image = '';
let iso = '';

test.before(() => {
  image = buildImage('cowboot');
  iso = makeIso('live', 'COWBOOT_LIVE', {
    '/live/filesystem.squashfs': makeSquashfs('live-squashfs', { init: REPORTING_INIT }),
    '/live/rootfs.ext2': makeGuestDisk('live-ext2', { init: REPORTING_INIT, sizeMiB: 48 }, 'ext2'),
  });
});

async function cdBoot(name: string, append: string, finishes = true): Promise<Booted> {
  const booted = await bootMedium({
    name,
    image,
    medium: { cd: iso },
    append: `root=/dev/sr0 ${append}`,
    finishes,
    ...(finishes ? {} : { dialogue: [{ waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'echo ANSWER-$((6*7)); poweroff -f\n' }] }),
    timeoutMs: 150_000,
  });
  if (finishes) console.log(`  ${name} handoff: ${booted.handoff?.toFixed(2)} s`);
  return booted;
}

test('squashfs on a CD with overlayfs: the medium stays reachable under /run/initramfs/live', async () => {
  const booted = await cdBoot('live-overlayfs', 'loop=/live/filesystem.squashfs overlay=overlayfs');
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.ok(booted.report('mounted').includes('/run/initramfs/live'));
  assert.equal(booted.report('sr0-mounts'), ['1']);
  assert.equal(booted.report('loop'), ['loop0 /run/initramfs/live/live/filesystem.squashfs']);
});

test('squashfs on a CD with unionfs', async () => {
  const booted = await cdBoot('live-unionfs', 'loop=/live/filesystem.squashfs overlay=unionfs');
  assert.equal(booted.report('rootfs'), ['fuse.unionfs']);
  assert.equal(booted.report('writable'), ['yes']);
});

test("an ext2 image on a CD with a dm snapshot: seed 004's live CD", async () => {
  const booted = await cdBoot('live-dm', 'loop=/live/rootfs.ext2 overlay=dm cow=ram cowsize=32M');
  assert.equal(booted.report('rootdev'), ['/dev/mapper/cowboot-root']);
  assert.equal(booted.report('rootfs'), ['ext2']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.ok(booted.report('mounted').includes('/run/initramfs/live'));
});

test('toram: the image is copied to RAM and the CD is let go', async () => {
  const booted = await cdBoot('live-toram', 'loop=/live/filesystem.squashfs overlay=overlayfs toram');
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('pid'), ['1 args=5'], 'toram is ours, not an argument for init');
  assert.equal(booted.report('sr0-mounts'), ['0']);
  assert.not.ok(booted.report('mounted').includes('/run/initramfs/live'));
  assert.equal(booted.report('loop'), ['loop0 /run/initramfs/toram/filesystem.squashfs']);
  assert.match(booted.console, /toram: the medium is no longer used and can be removed/);
});

test('overlay=dm on a squashfs image: a clear error that suggests overlayfs or unionfs', async () => {
  const booted = await cdBoot('live-dm-squashfs', 'loop=/live/filesystem.squashfs overlay=dm', false);
  assert.not.match(booted.console, /Kernel panic/);
  assert.match(booted.console, /overlay=dm cannot make squashfs writable/);
  assert.match(booted.console, /hint: use overlay=overlayfs or overlay=unionfs for this root/);
  assert.match(booted.console, /ANSWER-42/);
});

test.run();
