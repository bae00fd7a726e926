// The live-CD flow: an ISO on a virtio-scsi CD-ROM holding a squashfs and an
// ext2 image (seed 004's), with each union on top, and toram; and the same ISO
// kept as a file on a FAT stick (findiso=); and a medium checked against its
// sha256sum.txt (verify).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeFatFilesystem, makeGuestDisk, makeIso, makePartitionedDisk, makeSquashfs, REPORTING_INIT, sha256File } from '../../scripts/vm/guest';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';
import { buildImage } from '../../scripts/vm/image';
import { type Booted, bootMedium } from './harness';

// The rescue shell answers, then the machine powers off.
const RESCUE_ANSWERS = [{ waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'echo ANSWER-$((6*7)); poweroff -f\n' }];

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
    ...(finishes ? {} : { dialogue: RESCUE_ANSWERS }),
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
  assert.match(booted.report('loop').join('\n'), /^loop\d+ \/run\/initramfs\/live\/live\/filesystem\.squashfs$/);
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
  assert.match(booted.report('loop').join('\n'), /^loop\d+ \/run\/initramfs\/toram\/filesystem\.squashfs$/);
  assert.match(booted.console, /toram: the medium is no longer used and can be removed/);
});

test('overlay=dm on a squashfs image: a clear error that suggests overlayfs or unionfs', async () => {
  const booted = await cdBoot('live-dm-squashfs', 'loop=/live/filesystem.squashfs overlay=dm', false);
  assert.not.match(booted.console, /Kernel panic/);
  assert.match(booted.console, /overlay=dm cannot make squashfs writable/);
  assert.match(booted.console, /hint: use overlay=overlayfs or overlay=unionfs for this root/);
  assert.match(booted.console, /ANSWER-42/);
});

// The live ISO with a sha256sum.txt; `damage` flips one byte of the squashfs after its sum is taken.
function isoWithSums(name: string, damage: boolean): string {
  // Some 48 MiB that do not compress, so that the log's speed is the reading's, not the start's.
  const squashfs = makeSquashfs(`${name}-squashfs`, { init: REPORTING_INIT, files: { '/filler': randomBytes(32 << 20).toString('latin1') } });
  const sums = join(VM_CACHE, `${name}-sha256sum.txt`);
  writeFileSync(sums, `${sha256File(squashfs)}  ./live/filesystem.squashfs\n`);
  if (damage) {
    const bytes = readFileSync(squashfs);
    const middle = bytes.length >> 1;
    bytes.writeUInt8(bytes.readUInt8(middle) ^ 0x01, middle);
    writeFileSync(squashfs, bytes);
  }
  return makeIso(name, 'COWBOOT_LIVE', { '/live/filesystem.squashfs': squashfs, '/sha256sum.txt': sums });
}

test('verify: a medium that matches its sha256sum.txt boots, with its speed in the log', async () => {
  const booted = await bootMedium({ name: 'live-verify', image, medium: { cd: isoWithSums('verify-good', false) }, append: 'root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs verify', timeoutMs: 150_000 });
  assert.equal(booted.report('rootfs'), ['overlay']);
  const speed = /verify: 1 file \(([\d.]+) MiB\) match sha256sum.txt, read in (\d+) ms/.exec(booted.console);
  assert.ok(speed, 'the log says what was verified and how fast');
  console.log(`  verify under TCG: ${speed![1]} MiB in ${speed![2]} ms`);
});

test('verify: one flipped byte stops the boot with the file and both hashes, then the rescue shell', async () => {
  const booted = await bootMedium({
    name: 'live-verify-damaged',
    image,
    medium: { cd: isoWithSums('verify-bad', true) },
    append: 'root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs verify',
    finishes: false,
    dialogue: RESCUE_ANSWERS,
    timeoutMs: 150_000,
  });
  assert.match(booted.console, /verify: live\/filesystem.squashfs does not match sha256sum.txt: the medium is damaged or was changed/);
  assert.match(booted.console, /hint: expected [0-9a-f]{64}, found [0-9a-f]{64}/);
  assert.match(booted.console, /ANSWER-42/);
});

// roothash=: an ext2 root (file data stored as is, so one byte of a file can
// be flipped; 4 KiB blocks, as the verity device's sectors are) with its
// hash tree beside it on the CD. The root's init reads
// that file and reports what it got.
const VERITY_MARKER = 'VERITY-PROBE-DATA.';
const VERITY_INIT = `#!/bin/sh
if cat /verity-probe > /tmp/probe 2> /tmp/probe-error; then echo "GUEST probe-read=ok $(head -c 18 /tmp/probe)"; else echo "GUEST probe-read=failed $(cat /tmp/probe-error)"; fi
echo "GUEST verity-errors=$(dmesg | grep -c 'verity.*is corrupted')"
echo "GUEST rootfs=$(awk '$2=="/"{t=$3} END{print t}' /proc/mounts)"
echo "GUEST done"
poweroff -f
`;

function verityIso(name: string, damage: boolean): { iso: string; rootHash: string } {
  const root = makeGuestDisk(`${name}-root`, { init: VERITY_INIT, files: { '/verity-probe': VERITY_MARKER.repeat(1000) }, sizeMiB: 16, blockSize: 4096 }, 'ext2');
  const made = spawnSync(process.execPath, [join(PROJECT_DIR, 'bin', 'cowboot.mjs'), 'verity', root], { encoding: 'utf8' });
  assert.is(made.status, 0, made.stderr);
  if (damage) {
    const bytes = readFileSync(root);
    const at = bytes.indexOf(VERITY_MARKER) + 4000;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0x20, at);
    writeFileSync(root, bytes);
  }
  return { iso: makeIso(name, 'COWBOOT_LIVE', { '/live/rootfs.ext2': root, '/live/rootfs.ext2.verity': `${root}.verity` }), rootHash: made.stdout.trim() };
}

test('roothash=: a good image boots under dm-verity and reads right', async () => {
  const { iso: cd, rootHash } = verityIso('verity-good', false);
  const booted = await bootMedium({ name: 'live-verity', image, medium: { cd }, append: `root=/dev/sr0 loop=/live/rootfs.ext2 overlay=overlayfs roothash=${rootHash}`, timeoutMs: 150_000 });
  assert.equal(booted.report('probe-read'), [`ok ${VERITY_MARKER}`]);
  assert.equal(booted.report('verity-errors'), ['0']);
  assert.match(booted.console, /\/dev\/mapper\/cowboot-verity: \/dev\/loop\d+ checked by dm-verity against \/dev\/loop\d+/);
});

test('roothash=: one flipped byte in a file makes reading that file an I/O error, logged by the kernel; the rest boots', async () => {
  const { iso: cd, rootHash } = verityIso('verity-damaged', true);
  const booted = await bootMedium({ name: 'live-verity-damaged', image, medium: { cd }, append: `root=/dev/sr0 loop=/live/rootfs.ext2 overlay=overlayfs roothash=${rootHash}`, timeoutMs: 150_000 });
  assert.match(booted.report('probe-read')[0] ?? '', /^failed .*Input\/output error/);
  assert.not.equal(booted.report('verity-errors'), ['0']);
  assert.equal(booted.report('rootfs'), ['overlay']);
});

test('roothash=: a wrong root hash stops the boot with the message, then the rescue shell', async () => {
  const { iso: cd, rootHash } = verityIso('verity-wrong', false);
  const wrong = `${rootHash[0] === '0' ? '1' : '0'}${rootHash.slice(1)}`;
  const booted = await bootMedium({
    name: 'live-verity-wrong',
    image,
    medium: { cd },
    append: `root=/dev/sr0 loop=/live/rootfs.ext2 overlay=overlayfs roothash=${wrong}`,
    finishes: false,
    dialogue: RESCUE_ANSWERS,
    timeoutMs: 150_000,
  });
  assert.match(booted.console, new RegExp(`roothash=${wrong} does not match /dev/loop\\d+ and the hash tree on /dev/loop\\d+: the kernel refuses its first block`));
  assert.match(booted.console, /ANSWER-42/);
});

// A stick as GRUB's loopback or Ventoy uses it: one FAT partition holding the ISO as a file.
function stickWithIso(): string {
  const fat = makeFatFilesystem('iso-stick', 'STICK', { '/isos/live.iso': iso });
  return makePartitionedDisk('iso-stick', 'dos', [{ image: fat, fields: 'type=c' }]);
}

test('findiso= without root=: the ISO file is found on the stick (after a disk that lacks it), attached read-only, and is the medium', async () => {
  const other = makeGuestDisk('iso-other', { init: REPORTING_INIT, sizeMiB: 16 });
  const booted = await bootMedium({
    name: 'live-findiso',
    image,
    medium: { disks: [other, stickWithIso()] },
    append: 'findiso=/isos/live.iso loop=/live/filesystem.squashfs overlay=overlayfs',
    timeoutMs: 150_000,
  });
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.match(booted.report('loop').join('\n'), /^loop\d+ \/run\/initramfs\/isoscan\/isos\/live\.iso\nloop\d+ \/run\/initramfs\/live\/live\/filesystem\.squashfs$/);
  assert.match(booted.console, /findiso=\/isos\/live.iso is on vdb1 vfat LABEL=STICK/);
});

test('iso-scan/filename= with root=LABEL= of the stick', async () => {
  const booted = await bootMedium({
    name: 'live-iso-scan',
    image,
    medium: { disks: [stickWithIso()] },
    append: 'root=LABEL=STICK iso-scan/filename=/isos/live.iso loop=/live/filesystem.squashfs overlay=unionfs',
    timeoutMs: 150_000,
  });
  assert.equal(booted.report('rootfs'), ['fuse.unionfs']);
  assert.ok(booted.report('mounted').includes('/run/initramfs/isoscan'));
});

test('findiso= naming a file no device holds: the message names it and where it looked, then the rescue shell', async () => {
  const booted = await bootMedium({
    name: 'live-findiso-missing',
    image,
    medium: { disks: [stickWithIso()] },
    append: 'findiso=/isos/other.iso loop=/live/filesystem.squashfs overlay=overlayfs rootdelay=2',
    finishes: false,
    dialogue: RESCUE_ANSWERS,
    timeoutMs: 150_000,
  });
  assert.match(booted.console, /findiso=\/isos\/other.iso: no device holds that file, within 2 s/);
  assert.match(booted.console, /hint: looked on: \/dev\/vda1;/);
  assert.match(booted.console, /ANSWER-42/);
});

test.run();
