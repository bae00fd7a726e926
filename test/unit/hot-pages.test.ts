// node.hot as builder/hot/hot-pages.c reads it: the runs, the layout, the
// checksum and the build ID, on a small ELF file made here.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadSegments } from '../../builder/elf';
import { hotFile, hotRuns, hotSum, imageSum, PAGE } from '../../builder/hot-pages';

/** An ELF64 file of three loads: read-only at 0x400000 (with a build ID note), executable at 0x401000, writable at 0x404000. */
function tinyElf(): Buffer {
  const elf = Buffer.alloc(5 * PAGE);
  elf.writeUInt32BE(0x7f454c46, 0);
  elf[4] = 2;
  elf[5] = 1;
  elf.writeBigUInt64LE(64n, 0x20); // e_phoff
  elf.writeUInt16LE(56, 0x36);
  elf.writeUInt16LE(3, 0x38);
  const load = (i: number, flags: number, offset: number, vaddr: number, size: number) => {
    const at = 64 + i * 56;
    elf.writeUInt32LE(1, at);
    elf.writeUInt32LE(flags, at + 4);
    elf.writeBigUInt64LE(BigInt(offset), at + 8);
    elf.writeBigUInt64LE(BigInt(vaddr), at + 0x10);
    elf.writeBigUInt64LE(BigInt(size), at + 0x20);
  };
  load(0, 4, 0, 0x400000, PAGE);
  load(1, 5, PAGE, 0x401000, 3 * PAGE - 100);
  load(2, 6, 4 * PAGE, 0x404000, PAGE);
  // The build ID note: name size 4, descriptor size 20, type 3, "GNU\0", the ID.
  elf.writeUInt32LE(4, 0x200);
  elf.writeUInt32LE(20, 0x204);
  elf.writeUInt32LE(3, 0x208);
  elf.write('GNU\0', 0x20c, 'latin1');
  for (let i = 0; i < 20; i++) elf[0x210 + i] = i + 1;
  for (let i = PAGE; i < elf.length; i++) elf[i] = (i * 31) % 251;
  return elf;
}

// A squashfs image as far as node.hot reads it: bytes_used at 40, the inode table's start at 64.
const SQUASHFS = Buffer.alloc(PAGE);
SQUASHFS.writeBigUInt64LE(4000n, 40);
SQUASHFS.writeBigUInt64LE(3001n, 64);
for (let i = 96; i < PAGE; i++) SQUASHFS[i] = i % 7;

test('runs: pages within the read-only segments only, merged where close, with each segment its protection', () => {
  const elf = tinyElf();
  const runs = hotRuns(loadSegments(elf), [0x400123, 0x401000, 0x403000, 0x404000], []);
  assert.equal(runs, [
    { vaddr: 0x400000, bytes: PAGE, prot: 1 },
    { vaddr: 0x401000, bytes: 3 * PAGE, prot: 5 },
  ]);
});

test('runs: a whole range (V8 builtins) is one run however few of its pages were touched', () => {
  const runs = hotRuns(loadSegments(tinyElf()), [], [{ vaddr: 0x401800, bytes: 0x1000 }]);
  assert.equal(runs, [{ vaddr: 0x401000, bytes: 2 * PAGE, prot: 5 }]);
});

test('the file: header, runs, then the pages as the binary holds them, the checksum over them', () => {
  const elf = tinyElf();
  const runs = hotRuns(loadSegments(elf), [0x400000, 0x402000], []);
  const hot = hotFile(elf, runs, SQUASHFS);
  assert.is(hot.toString('latin1', 0, 7), 'COWHOT1');
  assert.is(hot.readBigUInt64LE(8), 0x400210n, 'where the build ID lies once mapped');
  assert.equal([...hot.subarray(16, 36)], Array.from({ length: 20 }, (_, i) => i + 1));
  assert.is(hot.readUInt32LE(36), 2);
  const dataOffset = Number(hot.readBigUInt64LE(40));
  assert.is(dataOffset, PAGE);
  assert.is(Number(hot.readBigUInt64LE(48)), 2 * PAGE);
  assert.is(hot.length, 3 * PAGE);
  // The second run: vaddr, bytes, offset in the file, protection.
  assert.equal([hot.readBigUInt64LE(80 + 32), hot.readBigUInt64LE(80 + 40), hot.readBigUInt64LE(80 + 48), hot.readUInt32LE(80 + 56)], [0x402000n, BigInt(PAGE), BigInt(2 * PAGE), 5]);
  assert.ok(hot.subarray(2 * PAGE).equals(elf.subarray(2 * PAGE, 3 * PAGE)), 'the pages are the binary\'s own');
  assert.is(hot.readBigUInt64LE(56), hotSum(hot.subarray(dataOffset)));
  assert.is(hot.readBigUInt64LE(64), BigInt(PAGE), "the runtime's image: its size");
  assert.is(hot.readBigUInt64LE(72), hotSum(SQUASHFS.subarray(3000, 4000)), 'and its tables, from a word boundary to the bytes used');
});

test("the image's identity changes with its tables, not with the blocks before them", () => {
  const other = Buffer.from(SQUASHFS);
  other[3500] = 99;
  assert.is.not(imageSum(other), imageSum(SQUASHFS));
  const blocks = Buffer.from(SQUASHFS);
  blocks[200] = 99;
  assert.is(imageSum(blocks), imageSum(SQUASHFS));
});

test('the checksum changes with any flipped byte, and with words swapped', () => {
  const data = Buffer.alloc(64);
  for (let i = 0; i < 64; i++) data[i] = i;
  const sum = hotSum(data);
  const flipped = Buffer.from(data);
  flipped[40] = 41;
  assert.is.not(hotSum(flipped), sum);
  const swapped = Buffer.concat([data.subarray(8, 16), data.subarray(0, 8), data.subarray(16)]);
  assert.is.not(hotSum(swapped), sum);
});

test.run();
