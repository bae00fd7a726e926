// The mechanics of assembly on busybox roots (debian-volumes.test.ts boots
// Debian 13 on each layout under both unions): LUKS on RAID1 opened by a
// key file in the image; LUKS on a partition opened by a key on a stick;
// three wrong passphrases. Assembled read-only, without udev, and every
// disk checked unchanged after the boot.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeFatFilesystem, makeGptDisk, makeGuestDisk } from '../../scripts/vm/guest';
import { encryptedCopy, VOLUMES_KEY_FILE, volumesImage } from '../../scripts/vm/volume-disks';
import { makeRaid1 } from '../../scripts/vm/md-disks';
import { bootMedium } from './harness';

const ROOT_UUID = '7a3b2c1d-5e4f-4a6b-8c7d-9e0f1a2b3c4d';
const LUKS_UUID = '9c5d4e3f-7a6b-4c8d-8e9f-1a2b3c4d5e6f';
const PASSPHRASE = 'correct horse battery staple';
const RAID_UUID = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

// What the booted root sees: its file, the RAID's state, and whether the union lets it write.
const INIT = `#!/bin/sh
[ -f /home/owner ] && echo "GUEST owner=$(cat /home/owner)"
for m in /sys/block/md*; do [ -d $m/md ] && echo "GUEST md=$(cat $m/md/array_state) degraded=$(cat $m/md/degraded)"; done
if echo x > /written; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST done"
poweroff -f
`;

let image = '';
let raidMembers: string[] = [];
let luksPartitionDisk = '';
let keyStick = '';

test.before(() => {
  image = volumesImage();
  const root = makeGuestDisk('volumes-root', { init: INIT, files: { '/home/owner': 'alice\n' }, sizeMiB: 24 }, 'ext4', ROOT_UUID);
  const luks = { uuid: LUKS_UUID, passphrase: PASSPHRASE, keyFile: VOLUMES_KEY_FILE };
  luksPartitionDisk = makeGptDisk('volumes-luks-part', encryptedCopy(root, luks), 'cryptroot', '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4e');
  raidMembers = makeRaid1(encryptedCopy(root, luks, 'raid-luks'), 'debian:0', RAID_UUID);
  keyStick = makeFatFilesystem('volumes-key-stick', 'KEYS', { '/keys/root.key': VOLUMES_KEY_FILE });
});

const typePassphrase = (times = 1, passphrase = PASSPHRASE) => Array.from({ length: times }, () => ({ waitFor: /Passphrase for \S+ \(LUKS UUID=[^)]+\): /, send: `${passphrase}\n` }));

const KEYED = `rd.luks.uuid=luks-${LUKS_UUID} rd.luks.key=/etc/keys/root.key`;

test('LUKS on RAID1, whole, under overlayfs: the array assembled read-only (nothing resyncs, no superblock written), then the container opened by a key file in the image (rd.luks.key=), nothing asked', async () => {
  const booted = await bootMedium({ name: 'raid1-luks-overlayfs', image, medium: { disks: raidMembers }, append: `root=UUID=${ROOT_UUID} ${KEYED} overlay=overlayfs` });
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('owner'), ['alice']);
  assert.equal(booted.report('md'), ['readonly degraded=0']);
  assert.match(booted.console, /RAID a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d: assembled read-only from \/dev\/vda, \/dev\/vdb/);
  assert.match(booted.console, /\/dev\/md\w+ \(LUKS UUID=[\w-]+\) opened read-only as \/dev\/mapper\/luks-[\w-]+, with the key file rd\.luks\.key=\/etc\/keys\/root\.key/);
  assert.not.match(booted.console, /Passphrase for/);
});

test('LUKS opened by a key file on a USB stick (rd.luks.key=PATH:LABEL=), which is mounted read-only only while the container opens', async () => {
  const booted = await bootMedium({ name: 'luks-keydevice', image, medium: { disks: [luksPartitionDisk, keyStick] }, append: `root=UUID=${ROOT_UUID} rd.luks.key=/keys/root.key:LABEL=KEYS overlay=overlayfs` });
  assert.equal(booted.report('owner'), ['alice']);
  assert.match(booted.console, /opened read-only as \/dev\/mapper\/luks-[\w-]+, with the key file rd\.luks\.key=\/keys\/root\.key:LABEL=KEYS/);
  assert.not.match(booted.console, /Passphrase for/);
});

test('three wrong passphrases: the failure says so, and the rescue shell follows', async () => {
  const booted = await bootMedium({
    name: 'luks-wrong',
    image,
    medium: { disks: [luksPartitionDisk] },
    append: `root=UUID=${ROOT_UUID} overlay=overlayfs`,
    finishes: false,
    dialogue: [...typePassphrase(3, 'not it'), { waitFor: /cowboot rescue shell[\s\S]*?# /, send: 'poweroff -f\n' }],
    timeoutMs: 150_000,
  });
  assert.match(booted.console, /wrong passphrase for \/dev\/vda1 \(attempt 3 of 3\)/);
  assert.match(booted.console, new RegExp(`3 wrong passphrases for /dev/vda1 \\(LUKS UUID=${LUKS_UUID}\\)`));
  assert.match(booted.console, /cowboot rescue shell/);
});

test.run();
