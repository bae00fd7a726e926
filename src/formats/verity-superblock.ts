// dm-verity's on-disk format, as veritysetup writes it (format 1): a
// superblock in the hash device's first block, then the hash tree, top level
// first. The builder writes it (cowboot verity) and /init reads it, so both
// follow this one description. No node: imports: it is bundled into /init.

export const VERITY_SIGNATURE = 'verity\0\0';
export const VERITY_SUPERBLOCK_BYTES = 512;

export interface VeritySuperblock {
  readonly hashType: number;
  readonly algorithm: string;
  readonly dataBlockSize: number;
  readonly hashBlockSize: number;
  readonly dataBlocks: number;
  readonly salt: Uint8Array;
}

// struct verity_sb: signature[8], version u32, hash_type u32, uuid[16],
// algorithm[32], data_block_size u32, hash_block_size u32, data_blocks u64,
// salt_size u16, pad[6], salt[256], pad[168]; little-endian.
export function writeSuperblock(sb: VeritySuperblock, uuid: Uint8Array): Uint8Array {
  const b = new Uint8Array(VERITY_SUPERBLOCK_BYTES);
  const view = new DataView(b.buffer);
  b.set([...VERITY_SIGNATURE].map((c) => c.charCodeAt(0)), 0);
  view.setUint32(8, 1, true);
  view.setUint32(12, sb.hashType, true);
  b.set(uuid.subarray(0, 16), 16);
  b.set([...sb.algorithm].map((c) => c.charCodeAt(0)), 32);
  view.setUint32(64, sb.dataBlockSize, true);
  view.setUint32(68, sb.hashBlockSize, true);
  view.setBigUint64(72, BigInt(sb.dataBlocks), true);
  view.setUint16(80, sb.salt.length, true);
  b.set(sb.salt, 88);
  return b;
}

/** The superblock at the start of a hash device, or why it is not one. */
export function readSuperblock(b: Uint8Array): VeritySuperblock | string {
  if (b.length < VERITY_SUPERBLOCK_BYTES) return 'it is shorter than a verity superblock';
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const text = (from: number, to: number) => String.fromCharCode(...b.subarray(from, to)).replace(/\0+$/, '');
  if (text(0, 8) !== 'verity') return 'it has no verity superblock (veritysetup format, or cowboot verity, writes one)';
  if (view.getUint32(8, true) !== 1) return `its superblock is of version ${view.getUint32(8, true)}, not 1`;
  const saltSize = view.getUint16(80, true);
  if (saltSize > 256) return `its salt size (${saltSize}) is more than 256`;
  return {
    hashType: view.getUint32(12, true),
    algorithm: text(32, 64),
    dataBlockSize: view.getUint32(64, true),
    hashBlockSize: view.getUint32(68, true),
    dataBlocks: Number(view.getBigUint64(72, true)),
    salt: b.slice(88, 88 + saltSize),
  };
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/**
 * The device-mapper table that checks `data` against the tree on `hash`
 * (after its superblock), as veritysetup open would make it.
 */
export function verityTable(sb: VeritySuperblock, data: string, hash: string, rootHash: string, options: readonly string[]): string {
  const sectors = (sb.dataBlocks * sb.dataBlockSize) / 512;
  const hashStart = sb.hashBlockSize >= VERITY_SUPERBLOCK_BYTES ? 1 : Math.ceil(VERITY_SUPERBLOCK_BYTES / sb.hashBlockSize);
  const salt = sb.salt.length > 0 ? hex(sb.salt) : '-';
  const args = [sb.hashType, data, hash, sb.dataBlockSize, sb.hashBlockSize, sb.dataBlocks, hashStart, sb.algorithm, rootHash, salt];
  return `0 ${sectors} verity ${args.join(' ')}${options.length ? ` ${options.length} ${options.join(' ')}` : ''}`;
}
