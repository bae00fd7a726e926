// Tells a filesystem, its label and its UUID by reading its superblock, as
// blkid does, so the root can be found by LABEL= or UUID= and mounted
// without rootfstype=, with no process spawned per device.

import { ascii, hex, isZero, text, u16le, u32le, uuidBigEndian } from './bytes';

export const DETECT_BYTES = 0x10400; // past btrfs's superblock at 64 KiB

export interface FsIdentity {
  readonly type: string;
  readonly label: string | null;
  readonly uuid: string | null;
}

const EXT_SUPERBLOCK = 1024;
const BTRFS_SUPERBLOCK = 0x10000;
// Features only ext4 has: extents, 64bit, mmp, flex_bg, ea_inode, csum_seed, largedir, inline_data, encrypt.
const EXT4_INCOMPAT = 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x2000 | 0x4000 | 0x8000 | 0x10000;
const EXT4_RO_COMPAT = 0x8 | 0x10 | 0x20 | 0x40 | 0x400; // huge_file, gdt_csum, dir_nlink, extra_isize, metadata_csum
const EXT3_COMPAT_JOURNAL = 0x4;
const EXT3_INCOMPAT_RECOVER = 0x4;

const orNull = (s: string) => (s === '' ? null : s);
const uuidOrNull = (b: Uint8Array, at: number) => (isZero(b, at, at + 16) ? null : uuidBigEndian(b, at));

function ext(b: Uint8Array): FsIdentity {
  const sb = EXT_SUPERBLOCK;
  const compat = u32le(b, sb + 0x5c);
  const incompat = u32le(b, sb + 0x60);
  const roCompat = u32le(b, sb + 0x64);
  const type = incompat & EXT4_INCOMPAT || roCompat & EXT4_RO_COMPAT ? 'ext4' : compat & EXT3_COMPAT_JOURNAL ? 'ext3' : 'ext2';
  return { type, label: orNull(text(b, sb + 0x78, 16)), uuid: uuidOrNull(b, sb + 0x68) };
}

// The primary volume descriptor: the volume id is the label, and blkid's UUID
// is the creation time (or modification time) with its punctuation.
function iso9660(b: Uint8Array): FsIdentity {
  const pvd = 0x8000;
  const time = (at: number) => {
    const t = Buffer.from(b.subarray(at, at + 16)).toString('latin1');
    return /^\d{16}$/.test(t) && t !== '0000000000000000' ? `${t.slice(0, 4)}-${t.slice(4, 6)}-${t.slice(6, 8)}-${t.slice(8, 10)}-${t.slice(10, 12)}-${t.slice(12, 14)}-${t.slice(14, 16)}` : null;
  };
  return { type: 'iso9660', label: orNull(text(b, pvd + 40, 32, 'latin1')), uuid: time(pvd + 830) ?? time(pvd + 813) };
}

/** A FAT or exFAT volume serial as blkid shows it: XXXX-XXXX. */
function serial(id: number): string {
  return hex(Uint8Array.of(id >>> 24, (id >>> 16) & 0xff), 0, 2).toUpperCase() + '-' + hex(Uint8Array.of((id >>> 8) & 0xff, id & 0xff), 0, 2).toUpperCase();
}

function vfat(b: Uint8Array): FsIdentity {
  const fat32 = ascii(b, 0x52, 'FAT32');
  const label = text(b, fat32 ? 0x47 : 0x2b, 11, 'latin1');
  return { type: 'vfat', label: label === 'NO NAME' ? null : orNull(label), uuid: serial(u32le(b, fat32 ? 0x43 : 0x27)) };
}

// An LVM physical volume labels one of its first four sectors; blkid shows
// the PV's UUID (32 characters in the header) in groups of 6-4-4-4-4-4-6.
function lvmMember(b: Uint8Array): FsIdentity | null {
  for (let sector = 0; sector < 4; sector++) {
    const at = sector * 512;
    if (!ascii(b, at, 'LABELONE') || !ascii(b, at + 0x18, 'LVM2 001')) continue;
    const raw = text(b, at + u32le(b, at + 0x14), 32, 'latin1');
    const groups = [6, 4, 4, 4, 4, 4, 6].map((n, i, all) => raw.slice(all.slice(0, i).reduce((x, y) => x + y, 0)).slice(0, n));
    return { type: 'LVM2_member', label: null, uuid: raw.length === 32 ? groups.join('-') : null };
  }
  return null;
}

/** Where an md superblock of version 1.1 (at 0) or 1.2 (at 4 KiB) is; 1.0 and 0.90 sit at the device's end. */
export function mdSuperblockAt(b: Uint8Array): number | null {
  for (const at of [4096, 0]) if (b.length >= at + 256 && u32le(b, at) === MD_MAGIC && u32le(b, at + 4) === 1) return at;
  return null;
}

const MD_MAGIC = 0xa92b4efc;

// blkid shows an md member's array UUID, and its array name as the label.
function mdMember(b: Uint8Array, at: number): FsIdentity {
  return { type: 'linux_raid_member', label: orNull(text(b, at + 32, 32)), uuid: uuidOrNull(b, at + 16) };
}

// LUKS1 and LUKS2 keep their UUID as text at the same place; only LUKS2 has a label.
function luks(b: Uint8Array): FsIdentity {
  const version = (b[6]! << 8) | b[7]!;
  return { type: 'crypto_LUKS', label: version === 2 ? orNull(text(b, 24, 48)) : null, uuid: orNull(text(b, 168, 40, 'latin1')) };
}

/**
 * The filesystem in the first DETECT_BYTES of a device, or null if none is
 * known; also the volumes that hold one (an LVM physical volume, a LUKS
 * container), by the names blkid gives them, so that they can be assembled.
 */
export function identifyFs(b: Uint8Array): FsIdentity | null {
  if (ascii(b, 0, 'LUKS\xba\xbe')) return luks(b);
  const md = mdSuperblockAt(b);
  if (md !== null) return mdMember(b, md);
  // squashfs has neither label nor UUID.
  if (ascii(b, 0, 'hsqs')) return { type: 'squashfs', label: null, uuid: null };
  // A swap area (mkswap, 4 KiB pages): found by UUID= like a filesystem, so that a frozen system can keep it off.
  if (ascii(b, 4096 - 10, 'SWAPSPACE2')) return { type: 'swap', label: orNull(text(b, 1024 + 28, 16)), uuid: uuidOrNull(b, 1024 + 12) };
  if (ascii(b, 0, 'XFSB')) return { type: 'xfs', label: orNull(text(b, 108, 12)), uuid: uuidOrNull(b, 32) };
  if (u32le(b, 1024) === 0xe0f5e1e2) return { type: 'erofs', label: orNull(text(b, 1024 + 64, 16)), uuid: uuidOrNull(b, 1024 + 48) };
  if (u16le(b, EXT_SUPERBLOCK + 0x38) === 0xef53) return ext(b);
  if (ascii(b, 0x8001, 'CD001')) return iso9660(b);
  if (ascii(b, BTRFS_SUPERBLOCK + 0x40, '_BHRfS_M')) return { type: 'btrfs', label: orNull(text(b, BTRFS_SUPERBLOCK + 0x12b, 256)), uuid: uuidOrNull(b, BTRFS_SUPERBLOCK + 0x20) };
  if (u16le(b, 510) === 0xaa55 && (ascii(b, 0x36, 'FAT') || ascii(b, 0x52, 'FAT32'))) return vfat(b);
  // exFAT keeps its label in the root folder, not here: found by UUID= (the volume serial), not by LABEL=.
  if (ascii(b, 3, 'EXFAT   ')) return { type: 'exfat', label: null, uuid: serial(u32le(b, 100)) };
  return lvmMember(b);
}

/**
 * Why mounting this filesystem must write its device, when it must: the
 * machine lost power, and the kernel replays at mount what was committed but
 * not yet written home. ext3/4 flags a journal to replay in its superblock,
 * btrfs points at its log tree (log_root) from there. xfs keeps no such
 * flag: only reading its log tells, and the kernel does that at mount, so
 * every xfs is treated as one whose log may need replaying (not certain).
 * `detected` is the type identifyFs found in `b`.
 */
export function replayNeed(detected: string | null, b: Uint8Array): { readonly why: string; readonly certain: boolean } | null {
  switch (detected) {
    case 'ext3':
    case 'ext4':
      return (u32le(b, EXT_SUPERBLOCK + 0x60) & EXT3_INCOMPAT_RECOVER) !== 0 ? { why: 'its journal needs replaying', certain: true } : null;
    case 'btrfs':
      return isZero(b, BTRFS_SUPERBLOCK + 0x60, BTRFS_SUPERBLOCK + 0x68) ? null : { why: 'its log tree needs replaying', certain: true };
    case 'xfs':
      return { why: 'xfs keeps no clean flag, so its log may need replaying', certain: false };
    default:
      return null;
  }
}

/** How many devices a btrfs spans (num_devices in its superblock); 1 for anything else. */
export function btrfsDevices(detected: string | null, b: Uint8Array): number {
  return detected === 'btrfs' ? u32le(b, BTRFS_SUPERBLOCK + 0x88) : 1;
}

export function detectFsType(b: Uint8Array): string | null {
  return identifyFs(b)?.type ?? null;
}

// The kernel module that provides each type, where the name differs.
const FS_MODULE: Readonly<Record<string, string>> = { ext2: 'ext4', ext3: 'ext4', iso9660: 'isofs' };

export function fsModule(fsType: string): string {
  return FS_MODULE[fsType] ?? fsType;
}
