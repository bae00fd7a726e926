import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readHead } from './read-head';
import { DETECT_BYTES, detectFsType, fsModule, identifyFs, replayNeed } from '../../src/formats/superblocks';



test('ext2, ext3 and ext4 made by mke2fs are told apart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cowboot-fs-'));
  try {
    for (const type of ['ext2', 'ext3', 'ext4']) {
      const image = join(dir, `${type}.img`);
      execFileSync('mke2fs', ['-q', '-t', type, image, '8M']);
      assert.is(detectFsType(readHead(image)), type);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function withBytes(at: number, bytes: number[] | string, size = DETECT_BYTES): Uint8Array {
  const b = new Uint8Array(size);
  const data = typeof bytes === 'string' ? [...bytes].map((c) => c.charCodeAt(0)) : bytes;
  b.set(data, at);
  return b;
}

test('squashfs, iso9660, erofs, xfs, btrfs and vfat by their magic', () => {
  assert.is(detectFsType(withBytes(0, 'hsqs')), 'squashfs');
  assert.is(detectFsType(withBytes(0x8001, 'CD001')), 'iso9660');
  assert.is(detectFsType(withBytes(1024, [0xe2, 0xe1, 0xf5, 0xe0])), 'erofs');
  assert.is(detectFsType(withBytes(0, 'XFSB')), 'xfs');
  assert.is(detectFsType(withBytes(0x10040, '_BHRfS_M')), 'btrfs');
  const fat = withBytes(0x52, 'FAT32');
  fat.set([0x55, 0xaa], 510);
  assert.is(detectFsType(fat), 'vfat');
});

test('exfat by its name in the boot sector, with its volume serial as blkid shows it', () => {
  const exfat = withBytes(3, 'EXFAT   ');
  exfat.set([0xcd, 0xab, 0x34, 0x12], 100);
  exfat.set([0x55, 0xaa], 510);
  assert.equal(identifyFs(exfat), { type: 'exfat', label: null, uuid: '1234-ABCD' });
});

test('nothing known, or a short read, is null', () => {
  assert.is(detectFsType(new Uint8Array(DETECT_BYTES)), null);
  assert.is(detectFsType(new Uint8Array(10)), null);
});

test('the module for a type', () => {
  assert.is(fsModule('ext2'), 'ext4');
  assert.is(fsModule('iso9660'), 'isofs');
  assert.is(fsModule('squashfs'), 'squashfs');
});


test('what must be replayed at mount: an ext journal flagged, a btrfs log tree, and any xfs', () => {
  const replayReason = (b: Uint8Array) => replayNeed(detectFsType(b), b)?.why ?? null;
  const ext4 = withBytes(1024 + 0x38, [0x53, 0xef]);
  assert.is(replayReason(ext4), null);
  ext4.set([0x44], 1024 + 0x60);
  assert.is(replayReason(ext4), 'its journal needs replaying');
  const btrfs = withBytes(0x10040, '_BHRfS_M');
  assert.is(replayReason(btrfs), null, 'no log tree: a clean btrfs');
  btrfs.set([0x00, 0x40, 0x5d], 0x10060);
  assert.is(replayReason(btrfs), 'its log tree needs replaying');
  assert.match(replayReason(withBytes(0, 'XFSB')) ?? '', /no clean flag/);
  assert.equal([replayNeed('xfs', withBytes(0, 'XFSB'))?.certain, replayNeed('btrfs', btrfs)?.certain], [false, true], 'only xfs\'s replay is a maybe');
  assert.is(replayReason(withBytes(0, 'hsqs')), null);
});

test.run();
