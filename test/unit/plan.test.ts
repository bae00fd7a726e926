// Plan mode, against golden files: test/golden/plan-*.txt. After a change
// that is meant to alter a plan, rewrite them with UPDATE_GOLDEN=1 and
// review the diff.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { plan } from '../../src/plan/plan';

const GOLDEN = join(import.meta.dirname, '..', 'golden');

async function golden(name: string, cmdline: string, config: string | null = null, ok = true): Promise<void> {
  const result = await plan(cmdline, config);
  const file = join(GOLDEN, `plan-${name}.txt`);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) writeFileSync(file, result.text);
  assert.fixture(result.text, readFileSync(file, 'utf8'));
  assert.is(result.ok, ok);
}

test('unionfs from a disk path', () => golden('unionfs', 'console=ttyS0 root=/dev/vda overlay=unionfs'));
test('Debian\'s encrypted LVM: the container opened (the passphrase asked), the volume activated, both read-only', () =>
  golden('encrypted-lvm', 'root=/dev/mapper/debian--vg-root rd.luks.uuid=3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b overlay=overlayfs'));
test('LUKS by rd.luks.name= holding the root by UUID, under dm', () => golden('luks-dm', 'root=UUID=0d1e2b3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b rd.luks.name=3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b=cryptroot overlay=dm'));
test('an image fetched over the network (root=live:URL): DHCP, the download into RAM checked against SHA256SUMS, the network released, the copy attached', () =>
  golden('fetched', 'root=live:http://10.0.2.2:8080/live/filesystem.squashfs overlay=overlayfs'));
test('an NFS root (root=nfs:): the network, the server reached, the export mounted read-only over NFSv4 under overlayfs, the network kept', () =>
  golden('nfs', 'root=nfs:10.0.2.2:/srv/fleet:port=20490 overlay=overlayfs'));
test('an NFS root under overlay=dm: refused before the network, naming the union kinds that take a folder', () => golden('nfs-dm', 'root=/dev/nfs nfsroot=10.0.2.2:/srv/fleet overlay=dm', null, false));
test('overlayfs, the root by LABEL', () => golden('overlayfs', 'root=LABEL=live-root overlay=overlayfs quiet'));
test('dm snapshot, cow=ram, cowsize=1G, runlevel 3', () => golden('dm', 'root=LABEL=x overlay=dm cow=ram cowsize=1G 3'));
test('none, read-write, by PARTUUID', () => golden('none-rw', 'root=PARTUUID=6c0d2f5a-1b2c-4d3e-8f90-a1b2c3d4e5f6 overlay=none rw'));
test('a live CD with toram', () => golden('live-toram', 'root=/dev/sr0 loop=/live/filesystem.squashfs toram overlay=overlayfs single'));
test('an ISO kept as a file on a stick (findiso=), found without root=', () => golden('findiso', 'findiso=/isos/live.iso loop=/live/filesystem.squashfs overlay=overlayfs'));
test('a live CD checked twice: verify reads its files, roothash= puts the image under dm-verity', () =>
  golden('verified', `root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs verify roothash=${'ab'.repeat(32)}`));
test('changes kept on a stick (persist=): a layer on ext4, the shutdown return', () => golden('persist', 'root=LABEL=live loop=/live/filesystem.squashfs overlay=overlayfs persist=LABEL=keep'));
test('a snapshot kept in an image file on a FAT stick', () => golden('persist-dm', 'root=/dev/vda overlay=dm persist=LABEL=STICK:/cowboot.cow'));
test('rd.break shows where the shell would open', () => golden('break', 'root=/dev/vda rd.break=union'));
test('the image config counts, the command line wins', () => golden('config', 'root=/dev/vda overlay=overlayfs', '{"overlay": "dm", "rd.driver.jobs": 1, "modules": ["fuse"]}'));
test('bad input: the same messages as at boot, and no stage after config', () => golden('bad', 'root=sda1 overlay=aufs cowsize=lots', null, false));
test('overlay=dm on a squashfs image: stops where boot would', () => golden('dm-squashfs', 'root=/dev/sr0 loop=/live/filesystem.squashfs overlay=dm', null, false));

test.run();
