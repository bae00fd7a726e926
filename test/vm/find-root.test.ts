// Finding the root with no modules= at all: by LABEL, UUID and PARTUUID, on
// virtio, a virtio-scsi CD, an AHCI disk, and a disk plugged in while /init
// waits; and an image built for another kernel.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGptDisk, makeGuestDisk, makeIso, makeSquashfs, REPORTING_INIT } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { type Booted, bootMedium, type MediumBoot } from './harness';

const UUID = '5f3c1e2a-9b7d-4c6e-8a1f-2d3b4c5e6f70';
const PARTUUID = '6c0d2f5a-1b2c-4d3e-8f90-a1b2c3d4e5f6';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('cowroot', { init: REPORTING_INIT }, 'ext4', UUID);
});

async function findBoot(options: Omit<MediumBoot, 'image'>): Promise<Booted> {
  const booted = await bootMedium({ image, timeoutMs: 180_000, ...options });
  assert.not.match(booted.console, /modules=/, 'no modules= given');
  console.log(`  ${options.name} handoff: ${booted.handoff?.toFixed(2)} s`);
  return booted;
}

test('root=LABEL=: found by its superblock; /dev/disk/by-label made as udev would', async () => {
  const booted = await findBoot({ name: 'find-label', medium: { disks: [disk] }, append: 'root=LABEL=cowroot overlay=overlayfs' });
  assert.match(booted.console, /LABEL=cowroot is vda ext4 LABEL=cowroot UUID=5f3c1e2a/);
  assert.equal(booted.report('by-label'), ['cowroot ']);
  assert.match(booted.console, /loaded virtio_blk in \d+ ms \(device\)/);
});

test('root=UUID=', async () => {
  const booted = await findBoot({ name: 'find-uuid', medium: { disks: [disk] }, append: `root=UUID=${UUID.toUpperCase()}` });
  assert.equal(booted.report('rootfs'), ['fuse.unionfs']);
});

test('root=PARTUUID= on a GPT disk', async () => {
  const gpt = makeGptDisk('find-gpt', disk, 'cowroot-part', PARTUUID);
  const booted = await findBoot({ name: 'find-partuuid', medium: { disks: [gpt] }, append: `root=PARTUUID=${PARTUUID} overlay=overlayfs` });
  assert.match(booted.console, new RegExp(`PARTUUID=${PARTUUID} is vda1 ext4 .*PARTLABEL=cowroot-part`));
  assert.equal(booted.report('writable'), ['yes']);
});

test('a virtio-scsi CD by its volume label', async () => {
  const iso = makeIso('find-cd', 'COWBOOT_FIND', { '/live/filesystem.squashfs': makeSquashfs('find-cd-squashfs', { init: REPORTING_INIT }) });
  const booted = await findBoot({ name: 'find-cd', medium: { cd: iso }, append: 'root=LABEL=COWBOOT_FIND loop=/live/filesystem.squashfs overlay=overlayfs' });
  assert.match(booted.console, /loaded virtio_scsi in \d+ ms \(device\)/);
  assert.match(booted.console, /LABEL=COWBOOT_FIND is sr0 iso9660/);
});

test('an AHCI disk: the controller, then the disk it brings', async () => {
  const booted = await findBoot({ name: 'find-ahci', medium: { ahci: disk }, append: `root=UUID=${UUID} overlay=overlayfs` });
  assert.match(booted.console, /loaded ahci in \d+ ms \(device\)/);
  assert.match(booted.console, /loaded sd_mod in \d+ ms \(device\)/);
  assert.match(booted.console, /UUID=.* is sda ext4/);
});

test('an NVMe disk: the nvme driver, then its namespace', async () => {
  const booted = await findBoot({ name: 'find-nvme', medium: { nvme: disk }, append: 'root=LABEL=cowroot overlay=overlayfs' });
  assert.match(booted.console, /loaded nvme in \d+ ms \(device\)/);
  assert.match(booted.console, /LABEL=cowroot is nvme0n1 ext4/);
});

// SCSI hot-plug on a virtio-scsi bus (no ACPI involved, which proved
// unreliable in TCG): the disk needs sd_mod, which nothing loaded before.
test('a disk plugged in while /init waits for it, behind a bus that needs another driver', async () => {
  const late = makeGuestDisk('late', { init: REPORTING_INIT });
  const booted = await findBoot({
    name: 'find-late',
    medium: { drives: [`if=none,id=late,file=${late},format=raw`], devices: ['-device', 'virtio-scsi-pci,id=scsi0'], files: [late] },
    append: 'root=LABEL=late rootdelay=120 overlay=overlayfs',
    dialogue: [{ waitFor: /looking for LABEL=late/, send: (qmp) => setTimeout(() => qmp.command('device_add', { driver: 'scsi-hd', drive: 'late', bus: 'scsi0.0', id: 'late0' }), 3000) }],
  });
  assert.match(booted.console, /\[qmp\] <- \{"return": \{\}\}[\s\S]*\[qmp\] <- \{"return": \{\}\}/);
  assert.match(booted.console, /loaded sd_mod in \d+ ms \(device\)/);
  assert.match(booted.console, /LABEL=late is sd[a-z] ext4 LABEL=late/);
  assert.equal(booted.report('writable'), ['yes']);
});

test('an image built for another kernel fails early, naming both versions', async () => {
  const other = buildImage('other-kernel', ['--kernel-version', '6.0.0-other']);
  const booted = await bootMedium({
    name: 'find-kernel-mismatch',
    image: other,
    medium: { disks: [disk] },
    append: 'root=LABEL=cowroot',
    finishes: false,
    dialogue: [{ waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'poweroff -f\n' }],
    timeoutMs: 120_000,
  });
  assert.match(booted.console, /this image was built for kernel 6\.0\.0-other, but the running kernel is 6\.12\.\S+: its modules cannot load/);
  assert.match(booted.console, /hint: rebuild the image for this kernel: cowboot build -o FILE --kernel-version 6\.12\.\S+, or cowboot update 6\.12\./);
});

test.run();
