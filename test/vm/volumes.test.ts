// The layouts Debian's installer offers besides plain partitions: "set up
// LVM" (the root and /home as logical volumes) and "set up encrypted LVM"
// (the volume group inside a LUKS2 container, its passphrase typed at the
// console), on busybox roots and on a real Debian 13; LUKS on RAID1, whole
// and degraded, opened by a key file in the image; LUKS on a partition
// opened by a key on a stick. Assembled read-only, without udev, and every
// disk checked unchanged after the boot.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage } from '../../scripts/vm/image';
import { makeFatFilesystem, makeGptDisk, makeGuestDisk } from '../../scripts/vm/guest';
import { encryptedCopy, makeLvmDisk } from '../../scripts/vm/volume-disks';
import { makeRaid1 } from '../../scripts/vm/md-disks';
import { bootMedium, type Booted } from './harness';
import { eventsIn } from '../../src/core/events';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { ENCRYPTED_LVM, makeEncryptedLvmRoot } from '../../scripts/vm/debian';
import { join } from 'node:path';
import { VM_CACHE } from '../../scripts/vm/project';

const ROOT_UUID = '7a3b2c1d-5e4f-4a6b-8c7d-9e0f1a2b3c4d';
const HOME_UUID = '8b4c3d2e-6f5a-4b7c-9d8e-0f1a2b3c4d5e';
const LUKS_UUID = '9c5d4e3f-7a6b-4c8d-8e9f-1a2b3c4d5e6f';
const PASSPHRASE = 'correct horse battery staple';
const RAID_UUID = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

// What the booted root sees: its filesystem and /home, the read-only flag
// of every device-mapper device, and whether the union lets it write.
const INIT = `#!/bin/sh
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "GUEST root=$(awk '$2=="/"{r=$1" "$3} END{print r}' /proc/mounts)"
echo "GUEST home=$(awk '$2=="/home"{print $1" "$3}' /proc/mounts)"
[ -f /home/owner ] && echo "GUEST owner=$(cat /home/owner)"
for d in /sys/block/dm-*; do [ -f $d/dm/name ] && echo "GUEST dm=$(cat $d/dm/name) ro=$(cat $d/ro)"; done
for m in /sys/block/md*; do [ -d $m/md ] && echo "GUEST md=$(cat $m/md/array_state) degraded=$(cat $m/md/degraded)"; done
if echo x > /written && echo y > /home/written; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST done"
poweroff -f
`;

let image = '';
let lvmDisk = '';
let encryptedLvmDisk = '';
let swapDisk = '';
let raidMembers: string[] = [];
let luksPartitionDisk = '';
let keyStick = '';
const keyFile = join(VM_CACHE, 'volumes-root.key');

let debianEncrypted = '';
/** Debian's encrypted-LVM disk, made once: a GPT partition holding the LUKS2 container, holding the volume group. */
function debianDisk(): string {
  if (debianEncrypted) return debianEncrypted;
  const home = makeGuestDisk('debian-enc-home', { init: INIT, files: { '/owner': 'alice\n' }, sizeMiB: 16 }, 'ext4');
  const swap = join(VM_CACHE, 'debian-enc-swap.img');
  writeFileSync(swap, Buffer.alloc(8 * 2 ** 20));
  execFileSync('mkswap', ['-q', swap]);
  const vg = makeLvmDisk('debian-enc-vg', ENCRYPTED_LVM.vg, [{ name: 'root', image: makeEncryptedLvmRoot() }, { name: 'home', image: home }, { name: 'swap_1', image: swap }]);
  debianEncrypted = makeGptDisk('debian-enc', encryptedCopy(vg, { uuid: ENCRYPTED_LVM.luksUuid, passphrase: ENCRYPTED_LVM.passphrase }), 'luks', '4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c');
  return debianEncrypted;
}

test.before(() => {
  mkdirSync(VM_CACHE, { recursive: true });
  writeFileSync(keyFile, 'a key file of random-looking bytes: 4f9c1e7a\n');
  image = buildImage('cowboot-volumes', ['--volumes', 'lvm,luks,md', '--add-file', `${keyFile}:/etc/keys/root.key`]);
  const root = makeGuestDisk('volumes-root', { init: INIT, files: { '/etc/fstab': `UUID=${ROOT_UUID} / ext4 defaults 0 1\nUUID=${HOME_UUID} /home ext4 defaults 0 2\n`, '/home/.keep': '' }, sizeMiB: 24 }, 'ext4', ROOT_UUID);
  const home = makeGuestDisk('volumes-home', { init: INIT, files: { '/owner': 'alice\n' }, sizeMiB: 8 }, 'ext4', HOME_UUID);
  lvmDisk = makeLvmDisk('volumes-vg0', 'vg0', [{ name: 'root', image: root }, { name: 'home', image: home }]);
  // As Debian's installer writes it for "encrypted LVM", with a random-key swap partition beside it.
  const crypttab = `vda_crypt UUID=${LUKS_UUID} none luks,discard\ncryptswap /dev/vdb /dev/urandom swap,cipher=aes-xts-plain64,size=256\n`;
  const cryptRoot = makeGuestDisk('volumes-crypt-root', { init: INIT, files: { '/etc/fstab': `UUID=${ROOT_UUID} / ext4 defaults 0 1\nUUID=${HOME_UUID} /home ext4 defaults 0 2\n/dev/mapper/cryptswap none swap sw 0 0\n`, '/etc/crypttab': crypttab, '/home/.keep': '' }, sizeMiB: 24 }, 'ext4', ROOT_UUID);
  encryptedLvmDisk = encryptedCopy(makeLvmDisk('volumes-crypt-vg', 'crypt-vg', [{ name: 'root', image: cryptRoot }, { name: 'home', image: home }]), { uuid: LUKS_UUID, passphrase: PASSPHRASE });
  swapDisk = join(VM_CACHE, 'volumes-swap.img');
  writeFileSync(swapDisk, Buffer.alloc(4 * 2 ** 20, 0x5a));
  const plainRoot = makeGuestDisk('volumes-plain-root', { init: INIT, files: { '/home/owner': 'alice\n' }, sizeMiB: 24 }, 'ext4', ROOT_UUID);
  luksPartitionDisk = makeGptDisk('volumes-luks-part', encryptedCopy(plainRoot, { uuid: LUKS_UUID, passphrase: PASSPHRASE, keyFile }), 'cryptroot', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e');
  raidMembers = makeRaid1(encryptedCopy(plainRoot, { uuid: LUKS_UUID, passphrase: PASSPHRASE, keyFile }, 'raid-luks'), 'debian:0', RAID_UUID);
  keyStick = makeFatFilesystem('volumes-key-stick', 'KEYS', { '/keys/root.key': keyFile });
});

const table: string[] = [];
test.after(() => {
  console.log(['', '| layout | union | end of boot (s) | assembly (ms) | disks unchanged |', '|---|---|---|---|---|', ...table].join('\n'));
});

/** A row of the table: bootMedium has checked every disk unchanged by the time it returns. */
function record(layout: string, union: string, booted: Booted): void {
  const assembly = eventsIn(booted.console, 'volumes-assembled').reduce((ms, e) => ms + e.ms, 0);
  table.push(`| ${layout} | ${union} | ${booted.report('uptime')[0] ?? '?'} | ${assembly} | yes |`);
}

const typePassphrase = (times = 1, passphrase = PASSPHRASE) => Array.from({ length: times }, () => ({ waitFor: /Passphrase for \S+ \(LUKS UUID=[^)]+\): /, send: `${passphrase}\n` }));

function assertFrozen(booted: Booted): void {
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('owner'), ['alice']);
  // Each dm device the root sees that is the user's (not cowboot's own snapshots) is read-only.
  for (const line of booted.report('dm').filter((l) => !l.startsWith('cowboot-'))) assert.match(line, / ro=1$/, line);
}

test('"set up LVM": the root and /home as logical volumes, activated read-only, each under overlayfs', async () => {
  const booted = await bootMedium({ name: 'lvm-overlayfs', image, medium: { disks: [lvmDisk] }, append: 'root=/dev/mapper/vg0-root overlay=overlayfs' });
  record('LVM (root, /home)', 'overlayfs', booted);
  assertFrozen(booted);
  assert.equal(booted.report('root'), ['overlay overlay']);
  assert.equal(booted.report('home'), ['overlay overlay']);
  assert.match(booted.console, /LVM: vg0\/\w+, vg0\/\w+ active, read-only/);
  assert.equal(booted.report('dm').filter((l) => l.startsWith('vg0-')).sort(), ['vg0-home ro=1', 'vg0-root ro=1']);
});

const KEYED = `rd.luks.uuid=luks-${LUKS_UUID} rd.luks.key=/etc/keys/root.key`;

test('LUKS on RAID1, whole, under overlayfs: the array assembled read-only (nothing resyncs, no superblock written), then the container opened by a key file in the image (rd.luks.key=), nothing asked', async () => {
  const booted = await bootMedium({ name: 'raid1-luks-overlayfs', image, medium: { disks: raidMembers }, append: `root=UUID=${ROOT_UUID} ${KEYED} overlay=overlayfs` });
  record('LUKS2 (key file) on RAID1', 'overlayfs', booted);
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('owner'), ['alice']);
  assert.equal(booted.report('md'), ['readonly degraded=0']);
  assert.match(booted.console, /RAID a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d: assembled read-only from \/dev\/vda, \/dev\/vdb/);
  assert.match(booted.console, /\/dev\/md\w+ \(LUKS UUID=[\w-]+\) opened read-only as \/dev\/mapper\/luks-[\w-]+, with the key file rd\.luks\.key=\/etc\/keys\/root\.key/);
  assert.not.match(booted.console, /Passphrase for/);
});

test('RAID1 with a member missing, under dm: started degraded after its wait, read-only, with a warning', async () => {
  const booted = await bootMedium({ name: 'raid1-degraded-dm', image, medium: { disks: raidMembers.slice(0, 1) }, append: `root=UUID=${ROOT_UUID} ${KEYED} overlay=dm` });
  record('LUKS2 (key file) on RAID1, degraded', 'dm', booted);
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('root'), ['/dev/mapper/cowboot-root ext4']);
  assert.equal(booted.report('md'), ['readonly degraded=1']);
  assert.match(booted.console, /RAID a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d: 1 of its 2 devices are here \(\/dev\/vda\), so it is started degraded, read-only; nothing is resynced/);
});

// Debian 13 as its installer sets up "encrypted LVM", with lvm2, cryptsetup
// and systemd-cryptsetup in the root, whose units run in the booted
// system; and a random-key swap partition in its crypttab, as users add.
for (const overlay of ['overlayfs', 'dm'] as const) {
  test(`Debian 13, "encrypted LVM", overlay=${overlay}: the passphrase typed (never echoed), systemd boots with no failed unit, /home on its LV in RAM, the crypttab's names kept and its random-key swap never opened, every device-mapper device read-only, it powers off with every disk unchanged`, async () => {
    const booted = await bootMedium({
      name: `debian-encrypted-lvm-${overlay}`,
      image,
      medium: { disks: [debianDisk(), swapDisk] },
      append: `root=/dev/mapper/debian--vg-root overlay=${overlay}`,
      dialogue: typePassphrase(1, ENCRYPTED_LVM.passphrase),
      timeoutMs: 400_000,
    });
    record('Debian 13 systemd, LVM in LUKS2 (passphrase)', overlay, booted);
    assert.equal(booted.report('state'), ['running'], booted.report('failed').join(' '));
    assert.equal(booted.report('rootfs'), [overlay === 'dm' ? 'ext4' : 'overlay']);
    assert.equal(booted.report('home'), ['overlay']);
    assert.equal(booted.report('swaps'), ['0']);
    assert.equal(booted.report('root-write'), ['ok']);
    assert.match(booted.console, new RegExp(`/dev/vda1 \\(LUKS UUID=${ENCRYPTED_LVM.luksUuid}\\) opened read-only as /dev/mapper/luks-${ENCRYPTED_LVM.luksUuid}`));
    assert.match(booted.console, /\/etc\/crypttab: \/dev\/mapper\/luks-[\w-]+ renamed vda1_crypt, as the booted system names it/);
    assert.match(booted.console, /\/etc\/crypttab: cryptswap is left shut \(swap: the booted system would format \/dev\/vdb as it opens it\); \/dev\/vdb set read-only/);
    assert.equal(booted.report('vdb-ro'), ['1']);
    for (const line of booted.report('dm').filter((l) => !l.startsWith('cowboot-'))) assert.match(line, / ro=1$/, line);
    assert.ok(booted.report('dm').includes('vda1_crypt ro=1'), booted.report('dm').join('; '));
    assert.ok(!booted.console.includes(ENCRYPTED_LVM.passphrase), 'the passphrase was echoed or logged');
  });
}

test('LUKS opened by a key file on a USB stick (rd.luks.key=PATH:LABEL=), which is mounted read-only only while the container opens', async () => {
  const booted = await bootMedium({ name: 'luks-keydevice', image, medium: { disks: [luksPartitionDisk, keyStick] }, append: `root=UUID=${ROOT_UUID} rd.luks.key=/keys/root.key:LABEL=KEYS overlay=overlayfs` });
  record('LUKS2 on a partition (key on a stick)', 'overlayfs', booted);
  assert.equal(booted.report('owner'), ['alice']);
  assert.match(booted.console, /opened read-only as \/dev\/mapper\/luks-[\w-]+, with the key file rd\.luks\.key=\/keys\/root\.key:LABEL=KEYS/);
  assert.not.match(booted.console, /Passphrase for/);
});

test('three wrong passphrases: the failure says so, and the rescue shell follows', async () => {
  const booted = await bootMedium({
    name: 'luks-wrong',
    image,
    medium: { disks: [encryptedLvmDisk] },
    append: `root=UUID=${ROOT_UUID} overlay=overlayfs`,
    finishes: false,
    dialogue: [...typePassphrase(3, 'not it'), { waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'poweroff -f\n' }],
    timeoutMs: 150_000,
  });
  assert.match(booted.console, /wrong passphrase for \/dev\/vda \(attempt 3 of 3\)/);
  assert.match(booted.console, new RegExp(`3 wrong passphrases for /dev/vda \\(LUKS UUID=${LUKS_UUID}\\)`));
  assert.match(booted.console, /cowboot rescue shell/);
});

test.run();
