// cowboot verity: the dm-verity hash tree of an image, in veritysetup's
// format (src/formats/verity-superblock.ts), so that /init can put the image under a verity
// target and the kernel refuses any block that was changed.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { closeSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { type VeritySuperblock, writeSuperblock } from '../src/formats/verity-superblock';
import { BuildError } from './host';

const BLOCK = 4096;
const DIGEST = 32;
const PER_BLOCK = BLOCK / DIGEST;

function digest(salt: Uint8Array, block: Uint8Array): Buffer {
  return createHash('sha256').update(salt).update(block).digest();
}

/** Digests packed into hash blocks, each zero-filled to its end. */
function pack(digests: Buffer): Buffer {
  const blocks = Math.ceil(digests.length / DIGEST / PER_BLOCK);
  const out = Buffer.alloc(blocks * BLOCK);
  for (let i = 0; i < blocks; i++) digests.copy(out, i * BLOCK, i * PER_BLOCK * DIGEST, Math.min(digests.length, (i + 1) * PER_BLOCK * DIGEST));
  return out;
}

function hashBlocks(salt: Uint8Array, blocks: Buffer): Buffer {
  const out = Buffer.alloc((blocks.length / BLOCK) * DIGEST);
  for (let i = 0; i < blocks.length / BLOCK; i++) digest(salt, blocks.subarray(i * BLOCK, (i + 1) * BLOCK)).copy(out, i * DIGEST);
  return out;
}

/** Writes the hash tree of `image` to `output` and returns the root hash, in hex. */
export function writeVerity(image: string, output: string): string {
  const size = statSync(image).size;
  const dataBlocks = size / BLOCK;
  if (!Number.isInteger(dataBlocks) || dataBlocks < 2) {
    throw new BuildError(`${image} is ${size} bytes: a verity image is a whole number of ${BLOCK}-byte blocks, at least two (mksquashfs pads to that by default; else: truncate -s %${BLOCK} ${image})`);
  }
  const salt = randomBytes(32);
  // Level 0: one digest per data block, read 4 MiB at a time.
  const leaves = Buffer.alloc(dataBlocks * DIGEST);
  const chunk = Buffer.alloc(1024 * BLOCK);
  const fd = openSync(image, 'r');
  try {
    for (let block = 0; block < dataBlocks; ) {
      const read = readSync(fd, chunk, 0, chunk.length, block * BLOCK);
      for (let i = 0; i < read / BLOCK; i++, block++) digest(salt, chunk.subarray(i * BLOCK, (i + 1) * BLOCK)).copy(leaves, block * DIGEST);
    }
  } finally {
    closeSync(fd);
  }
  const levels = [pack(leaves)];
  while (levels.at(-1)!.length > BLOCK) levels.push(pack(hashBlocks(salt, levels.at(-1)!)));
  const rootHash = digest(salt, levels.at(-1)!).toString('hex');
  const sb: VeritySuperblock = { hashType: 1, algorithm: 'sha256', dataBlockSize: BLOCK, hashBlockSize: BLOCK, dataBlocks, salt };
  const header = Buffer.alloc(BLOCK);
  header.set(writeSuperblock(sb, Buffer.from(randomUUID().replaceAll('-', ''), 'hex')));
  const tmp = `${output}.${process.pid}.tmp`;
  const out = openSync(tmp, 'w');
  try {
    // The top level first, as dm-verity reads it.
    for (const part of [header, ...levels.reverse()]) writeSync(out, part);
  } finally {
    closeSync(out);
  }
  try {
    renameSync(tmp, output);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
  return rootHash;
}
