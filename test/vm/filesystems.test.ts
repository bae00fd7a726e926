// The mechanics of the roots Fedora, openSUSE and RHEL install, on busybox
// roots (debian-volumes.test.ts boots Debian 13 on each under both unions):
// btrfs with the root and /home in subvolumes, and xfs, each booted as a
// power cut leaves it, with a log to replay into RAM; and a btrfs on two
// devices under overlayfs. The disks are made with mkfs.btrfs and
// mkfs.xfs, and checked unchanged after every boot.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildImage } from '../../scripts/vm/image';
import { crashedCopy, makeBtrfsPair, makeHostFsDisk } from '../../scripts/vm/host-filesystems';
import { bootMedium, type Booted } from './harness';

const BTRFS_UUID = '5e1f0a2b-3c4d-4e5f-8a6b-7c8d9e0f1a2b';
const XFS_UUID = '6f2a1b3c-4d5e-4f6a-9b7c-8d9e0f1a2b3c';

// What the booted root sees: its filesystem, /home, the file the power cut
// caught, and whether both can be written.
const INIT = `#!/bin/sh
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "GUEST root=$(awk '$2=="/"{r=$1" "$3} END{print r}' /proc/mounts)"
echo "GUEST home=$(awk '$2=="/home"{print $1" "$3}' /proc/mounts)"
[ -f /home/owner ] && echo "GUEST owner=$(cat /home/owner)"
[ -f /crash-file ] && echo "GUEST crash-file=$(cat /crash-file)"
if echo x > /written && echo y > /home/written; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST done"
poweroff -f
`;

const HOME = { '/owner': 'alice\n' };
const fstab = (type: string, uuid: string, subvolumes: boolean) =>
  subvolumes ? `UUID=${uuid} / ${type} defaults,subvol=@ 0 0\nUUID=${uuid} /home ${type} defaults,subvol=@home 0 0\n` : `UUID=${uuid} / ${type} defaults 0 1\n`;

let image = '';
let btrfs = '';
let xfs = '';
let pair: [string, string] = ['', ''];
const PAIR_UUID = '7a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d';

test.before(() => {
  image = buildImage('cowboot');
  btrfs = makeHostFsDisk('btrfs-root', { init: INIT, files: { '/etc/fstab': fstab('btrfs', BTRFS_UUID, true), '/home/.keep': '' } }, { type: 'btrfs', uuid: BTRFS_UUID, subvolumes: ['@', '@home'], contents: { '@home': HOME } });
  pair = makeBtrfsPair('btrfs-pair', { init: INIT, files: { '/home/owner': HOME['/owner'] } }, PAIR_UUID);
  xfs = makeHostFsDisk('xfs-root', { init: INIT, files: { '/etc/fstab': fstab('xfs', XFS_UUID, false), '/home/owner': HOME['/owner'] } }, { type: 'xfs', uuid: XFS_UUID });
});

async function boot(name: string, disk: string, append: string, disks: readonly string[] = [disk]): Promise<Booted> {
  const booted = await bootMedium({ name, image, medium: { disks }, append });
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('owner'), ['alice']);
  return booted;
}

test('btrfs after a power cut: its log tree is replayed into RAM, and the fsync\'d file is there', async () => {
  const crashed = crashedCopy(btrfs, '@', '/crash-file', 'fsynced');
  const booted = await boot('btrfs-crashed', crashed, `root=UUID=${BTRFS_UUID} rootflags=subvol=@ overlay=overlayfs`);
  assert.equal(booted.report('crash-file'), ['fsynced']);
  assert.match(booted.console, /\/dev\/vda \(btrfs\) was not cleanly unmounted: its log tree needs replaying; the replay goes into RAM/);
  assert.equal(booted.report('home'), ['overlay overlay']);
});

test('btrfs on two devices (RAID1) under overlayfs: mounted read-only from both, each named with device=, no btrfs device scan', async () => {
  const booted = await boot('btrfs-pair-overlayfs', pair[0], `root=UUID=${PAIR_UUID} overlay=overlayfs`, pair);
  assert.equal(booted.report('root'), ['overlay overlay']);
  assert.match(booted.console, /\/dev\/vd[ab] \(btrfs\) mounted read-only on \/run\/initramfs\/ro/);
});

test('xfs after a power cut: its log is replayed into RAM, and the fsync\'d file is there', async () => {
  const crashed = crashedCopy(xfs, '', '/crash-file', 'fsynced');
  const booted = await boot('xfs-crashed', crashed, `root=UUID=${XFS_UUID} overlay=overlayfs`);
  assert.equal(booted.report('crash-file'), ['fsynced']);
  assert.match(booted.console, /XFS \(dm-0\): Starting recovery/);
});

test.run();
