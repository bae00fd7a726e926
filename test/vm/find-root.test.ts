// Finding the root with no modules= at all: by LABEL, UUID and PARTUUID, on
// virtio, a virtio-scsi CD, an AHCI disk, and a disk plugged in while /init
// waits; and an image built for another kernel.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGptDisk, makeGuestDisk, makeIso, makeSquashfs, REPORTING_INIT, sha256File } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { boot, type BootOptions, type BootResult, cdrom, handoffSeconds } from '../../scripts/vm/qemu';
import { assertCleanBoot, guest } from './report';

const UUID = '5f3c1e2a-9b7d-4c6e-8a1f-2d3b4c5e6f70';
const PARTUUID = '6c0d2f5a-1b2c-4d3e-8f90-a1b2c3d4e5f6';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('cowroot', { init: REPORTING_INIT }, 'ext4', UUID);
});

async function findBoot(options: Omit<BootOptions, 'initrd'>, checked: string): Promise<BootResult> {
  const before = sha256File(checked);
  const result = await boot({ initrd: image, timeoutMs: 180_000, ...options, append: `console=ttyS0 ${options.append}` });
  assertCleanBoot(result);
  assert.is(sha256File(checked), before, 'the medium was written');
  assert.not.match(result.console, /modules=/, 'no modules= given');
  console.log(`  ${options.name} handoff: ${handoffSeconds(result.console, /GUEST uptime=([\d.]+)/)?.toFixed(2)} s`);
  return result;
}

test('root=LABEL=: found by its superblock; /dev/disk/by-label made as udev would', async () => {
  const result = await findBoot({ name: 'find-label', drives: [`file=${disk},if=virtio,format=raw`], append: 'root=LABEL=cowroot overlay=overlayfs' }, disk);
  assert.match(result.console, /LABEL=cowroot is vda ext4 LABEL=cowroot UUID=5f3c1e2a/);
  assert.equal(guest(result.console, 'by-label'), ['cowroot ']);
  assert.match(result.console, /loaded virtio_blk in \d+ ms \(device\)/);
});

test('root=UUID=', async () => {
  const result = await findBoot({ name: 'find-uuid', drives: [`file=${disk},if=virtio,format=raw`], append: `root=UUID=${UUID.toUpperCase()}` }, disk);
  assert.equal(guest(result.console, 'rootfs'), ['fuse.unionfs']);
});

test('root=PARTUUID= on a GPT disk', async () => {
  const gpt = makeGptDisk('find-gpt', disk, 'cowroot-part', PARTUUID);
  const result = await findBoot({ name: 'find-partuuid', drives: [`file=${gpt},if=virtio,format=raw`], append: `root=PARTUUID=${PARTUUID} overlay=overlayfs` }, gpt);
  assert.match(result.console, new RegExp(`PARTUUID=${PARTUUID} is vda1 ext4 .*PARTLABEL=cowroot-part`));
  assert.equal(guest(result.console, 'writable'), ['yes']);
});

test('a virtio-scsi CD by its volume label', async () => {
  const iso = makeIso('find-cd', 'COWBOOT_FIND', { '/live/filesystem.squashfs': makeSquashfs('find-cd-squashfs', { init: REPORTING_INIT }) });
  const result = await findBoot({ name: 'find-cd', devices: cdrom(iso), append: 'root=LABEL=COWBOOT_FIND loop=/live/filesystem.squashfs overlay=overlayfs' }, iso);
  assert.match(result.console, /loaded virtio_scsi in \d+ ms \(device\)/);
  assert.match(result.console, /LABEL=COWBOOT_FIND is sr0 iso9660/);
});

test('an AHCI disk: the controller, then the disk it brings', async () => {
  const result = await findBoot(
    {
      name: 'find-ahci',
      devices: ['-device', 'ahci,id=ahci0', '-drive', `if=none,id=ad,file=${disk},format=raw`, '-device', 'ide-hd,drive=ad,bus=ahci0.0'],
      append: `root=UUID=${UUID} overlay=overlayfs`,
    },
    disk,
  );
  assert.match(result.console, /loaded ahci in \d+ ms \(device\)/);
  assert.match(result.console, /loaded sd_mod in \d+ ms \(device\)/);
  assert.match(result.console, /UUID=.* is sda ext4/);
});

// SCSI hot-plug on a virtio-scsi bus (no ACPI involved, which proved
// unreliable in TCG): the disk needs sd_mod, which nothing loaded before.
test('a disk plugged in while /init waits for it, behind a bus that needs another driver', async () => {
  const late = makeGuestDisk('late', { init: REPORTING_INIT });
  const result = await findBoot(
    {
      name: 'find-late',
      drives: [`if=none,id=late,file=${late},format=raw`],
      devices: ['-device', 'virtio-scsi-pci,id=scsi0'],
      append: 'root=LABEL=late rootdelay=120 overlay=overlayfs',
      dialogue: [{ waitFor: /looking for LABEL=late/, send: (qmp) => setTimeout(() => qmp.command('device_add', { driver: 'scsi-hd', drive: 'late', bus: 'scsi0.0', id: 'late0' }), 3000) }],
    },
    late,
  );
  assert.match(result.console, /\[qmp\] <- \{"return": \{\}\}[\s\S]*\[qmp\] <- \{"return": \{\}\}/);
  assert.match(result.console, /loaded sd_mod in \d+ ms \(device\)/);
  assert.match(result.console, /LABEL=late is sd[a-z] ext4 LABEL=late/);
  assert.equal(guest(result.console, 'writable'), ['yes']);
});

test('an image built for another kernel fails early, naming both versions', async () => {
  const other = buildImage('other-kernel', ['--kernel-version', '6.0.0-other']);
  const result = await boot({
    name: 'find-kernel-mismatch',
    initrd: other,
    drives: [`file=${disk},if=virtio,format=raw`],
    append: 'console=ttyS0 root=LABEL=cowroot',
    dialogue: [{ waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'poweroff -f\n' }],
    timeoutMs: 120_000,
  });
  assert.not.match(result.console, /Kernel panic/);
  assert.match(result.console, /this image was built for kernel 6\.0\.0-other, but the running kernel is 6\.1\.\S+: its modules cannot load/);
  assert.match(result.console, /hint: rebuild the image for this kernel: node build\.mjs initramfs -o FILE --kernel-version 6\.1\./);
});

test.run();
