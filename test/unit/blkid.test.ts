// The superblock and partition-table readers against images made by the
// real tools.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readHead } from './read-head';
import { readPartitionTable } from '../../src/formats/partition-tables';
import { parseRootSpec, udevEscape } from '../../src/formats/device-spec';
import { diskLinks, matchesSpec } from '../../src/storage/scan';
import { identifyFs } from '../../src/formats/superblocks';
import { encryptedCopy, makeLvmDisk } from '../../scripts/vm/volume-disks';
import { makeRaid1 } from '../../scripts/vm/md-disks';

const dir = mkdtempSync(join(tmpdir(), 'cowboot-blkid-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));



const blkid = (path: string, tag: string) => execFileSync('blkid', ['-p', '-s', tag, '-o', 'value', path], { encoding: 'utf8' }).trim();

test('ext2/3/4 by mke2fs: type, label and UUID as blkid reads them', () => {
  for (const type of ['ext2', 'ext3', 'ext4']) {
    const image = join(dir, `${type}.img`);
    execFileSync('mke2fs', ['-q', '-t', type, '-L', `my ${type}`, '-U', '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0', image, '8M']);
    assert.equal(identifyFs(readHead(image)), { type, label: `my ${type}`, uuid: '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' });
  }
});

test('squashfs by mksquashfs: type only (it has no label nor UUID)', () => {
  mkdirSync(join(dir, 'tree'), { recursive: true });
  writeFileSync(join(dir, 'tree', 'f'), 'x');
  const image = join(dir, 'fs.squashfs');
  execFileSync('mksquashfs', [join(dir, 'tree'), image, '-noappend', '-quiet']);
  assert.equal(identifyFs(readHead(image)), { type: 'squashfs', label: null, uuid: null });
});

test('iso9660 by xorriso: the volume id as label, the creation time as UUID', () => {
  const iso = join(dir, 'cd.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'COWBOOT_LIVE', '-o', iso, join(dir, 'tree')], { stdio: 'ignore' });
  const fs = identifyFs(readHead(iso));
  assert.is(fs?.type, 'iso9660');
  assert.is(fs?.label, 'COWBOOT_LIVE');
  assert.is(fs?.uuid, blkid(iso, 'UUID'));
});

test('a swap area by mkswap: its label and UUID, so that UUID= in an fstab finds it', () => {
  const image = join(dir, 'swap.img');
  execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=8'], { stdio: 'ignore' });
  execFileSync('mkswap', ['-q', '-L', 'myswap', '-U', '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e', image]);
  assert.equal(identifyFs(readHead(image)), { type: 'swap', label: 'myswap', uuid: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e' });
  assert.is(blkid(image, 'UUID'), '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e');
});

test('an LVM physical volume by pvcreate, and a LUKS2 container by cryptsetup: their types and UUIDs as blkid reads them', () => {
  const fs = join(dir, 'inner.ext4');
  execFileSync('mke2fs', ['-q', '-t', 'ext4', fs, '8M']);
  const pv = makeLvmDisk('blkid-test', 'testvg', [{ name: 'lv', image: fs }]);
  try {
    assert.equal(identifyFs(readHead(pv)), { type: 'LVM2_member', label: null, uuid: blkid(pv, 'UUID') });
    assert.match(blkid(pv, 'UUID'), /^\w{6}(-\w{4}){5}-\w{6}$/);
    const luks = encryptedCopy(fs, { uuid: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f', passphrase: 'x' });
    assert.equal(identifyFs(readHead(luks)), { type: 'crypto_LUKS', label: null, uuid: '3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f' });
    assert.is(blkid(luks, 'TYPE'), 'crypto_LUKS');
    rmSync(luks);
  } finally {
    rmSync(pv);
  }
});

test('an md RAID1 member (metadata 1.2), as the VM tests write it: mdadm --examine takes it, and its type, array UUID and name read as blkid reads them', () => {
  const fs = join(dir, 'raid.ext4');
  execFileSync('mke2fs', ['-q', '-t', 'ext4', fs, '8M']);
  const [member] = makeRaid1(fs, 'host:root', '11223344-5566-4778-899a-abbccddeeff0');
  assert.match(execFileSync('mdadm', ['--examine', member!], { encoding: 'utf8' }), /Checksum : \w+ - correct/);
  assert.equal(identifyFs(readHead(member!)), { type: 'linux_raid_member', label: 'host:root', uuid: '11223344-5566-4778-899a-abbccddeeff0' });
  assert.is(blkid(member!, 'TYPE'), 'linux_raid_member');
  assert.is(blkid(member!, 'UUID'), '11223344-5566-4778-899a-abbccddeeff0');
  assert.is(blkid(member!, 'LABEL'), 'host:root');
});

test('vfat by mkfs.vfat: label and volume id', () => {
  const image = join(dir, 'fat.img');
  execFileSync('dd', ['if=/dev/zero', `of=${image}`, 'bs=1M', 'count=40'], { stdio: 'ignore' });
  execFileSync('mkfs.vfat', ['-F', '32', '-n', 'BOOTFAT', '-i', '1234ABCD', image], { stdio: 'ignore' });
  assert.equal(identifyFs(readHead(image)), { type: 'vfat', label: 'BOOTFAT', uuid: '1234-ABCD' });
});

test('GPT by sfdisk: each partition with its PARTUUID and PARTLABEL', () => {
  const disk = join(dir, 'gpt.img');
  execFileSync('dd', ['if=/dev/zero', `of=${disk}`, 'bs=1M', 'count=8'], { stdio: 'ignore' });
  execFileSync('sfdisk', ['--quiet', disk], {
    input: 'label: gpt\nstart=2048, size=4096, name=cowroot, uuid=6C0D2F5A-1B2C-4D3E-8F90-A1B2C3D4E5F6\nstart=6144, size=2048, name="my data"\n',
  });
  const parts = readPartitionTable(readHead(disk));
  assert.is(parts.length, 2);
  assert.equal(parts[0], { number: 1, partuuid: '6c0d2f5a-1b2c-4d3e-8f90-a1b2c3d4e5f6', partlabel: 'cowroot' });
  assert.equal(parts[1]?.partlabel, 'my data');
  assert.is(parts[1]?.partuuid, execFileSync('sfdisk', ['--part-uuid', disk, '2'], { encoding: 'utf8' }).trim().toLowerCase());
});

test('MBR by sfdisk: PARTUUID is the disk signature and the partition number', () => {
  const disk = join(dir, 'mbr.img');
  execFileSync('dd', ['if=/dev/zero', `of=${disk}`, 'bs=1M', 'count=8'], { stdio: 'ignore' });
  execFileSync('sfdisk', ['--quiet', disk], { input: 'label: dos\nlabel-id: 0x6c0d2f5a\nstart=2048, size=2048, type=83\nstart=4096, size=2048, type=83\n' });
  assert.equal(readPartitionTable(readHead(disk)).map((p) => p.partuuid), ['6c0d2f5a-01', '6c0d2f5a-02']);
});

test('root specs and the links udev would make', () => {
  assert.equal(parseRootSpec('LABEL=my root'), { kind: 'label', value: 'my root' });
  assert.equal(parseRootSpec('UUID="abc"'), { kind: 'uuid', value: 'abc' });
  assert.equal(parseRootSpec('/dev/disk/by-label/my\\x20root'), { kind: 'label', value: 'my root' });
  assert.equal(parseRootSpec('/dev/vda1'), { kind: 'path', path: '/dev/vda1' });
  assert.is(parseRootSpec('PARTUUID='), null);
  assert.is(udevEscape('my root/1'), 'my\\x20root\\x2f1');
  const vda1 = { name: 'vda1', path: '/dev/vda1', fs: { type: 'ext4', label: 'my root', uuid: 'u-1' }, partuuid: 'p-1', partlabel: 'cowroot', ours: false };
  // A snapshot of cowboot's reads as the device it copies: no link, and never found for it.
  const snapshot = { ...vda1, name: 'dm-0', path: '/dev/dm-0', partuuid: null, partlabel: null, ours: true };
  assert.not.ok(matchesSpec(snapshot, { kind: 'uuid', value: 'u-1' }));
  assert.ok(matchesSpec(vda1, { kind: 'uuid', value: 'u-1' }));
  const links = diskLinks([vda1, snapshot]);
  assert.equal(links, [
    ['/dev/disk/by-label/my\\x20root', '../../vda1'],
    ['/dev/disk/by-uuid/u-1', '../../vda1'],
    ['/dev/disk/by-partuuid/p-1', '../../vda1'],
    ['/dev/disk/by-partlabel/cowroot', '../../vda1'],
  ]);
});

test.run();
