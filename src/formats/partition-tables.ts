// Partition tables, read from a whole disk's first sectors: GPT (PARTUUID and
// PARTLABEL from each entry) and MBR (PARTUUID "disk signature-NN").

import { ascii, guidMixedEndian, u16le, u32le, u64le } from './bytes';

interface PartitionId {
  /** 1-based, as in vda1. */
  readonly number: number;
  readonly partuuid: string;
  readonly partlabel: string | null;
}

const SECTOR = 512;

function gpt(b: Uint8Array): PartitionId[] | null {
  const header = SECTOR;
  if (!ascii(b, header, 'EFI PART')) return null;
  const entriesLba = u64le(b, header + 72);
  const count = u32le(b, header + 80);
  const size = u32le(b, header + 84);
  const parts: PartitionId[] = [];
  for (let i = 0; i < count; i++) {
    const at = entriesLba * SECTOR + i * size;
    if (at + size > b.length) break; // entries past what was read
    if (b.subarray(at, at + 16).every((x) => x === 0)) continue; // unused entry
    const name = Buffer.from(b.subarray(at + 56, at + 128)).toString('utf16le');
    const end = name.indexOf('\0');
    const label = end === -1 ? name : name.slice(0, end);
    parts.push({ number: i + 1, partuuid: guidMixedEndian(b, at + 16), partlabel: label === '' ? null : label });
  }
  return parts;
}

function mbr(b: Uint8Array): PartitionId[] | null {
  if (u16le(b, 510) !== 0xaa55) return null;
  const signature = u32le(b, 440);
  const parts: PartitionId[] = [];
  for (let i = 0; i < 4; i++) {
    const type = b[446 + i * 16 + 4];
    // 0xee is GPT's protective entry; 0 is unused. Extended partitions are not followed.
    if (!type || type === 0xee) continue;
    parts.push({ number: i + 1, partuuid: `${signature.toString(16).padStart(8, '0')}-${(i + 1).toString(16).padStart(2, '0')}`, partlabel: null });
  }
  return parts;
}

/** The partitions of a disk; empty when it has no table (or a filesystem over the whole disk). */
export function readPartitionTable(b: Uint8Array): PartitionId[] {
  return gpt(b) ?? mbr(b) ?? [];
}
