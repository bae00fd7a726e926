// Tells a filesystem by its magic bytes, so a root can be mounted without
// rootfstype= and the right driver loaded before the mount.

export const DETECT_BYTES = 0x10100; // far enough for btrfs's superblock at 64 KiB

function u16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

function u32le(b: Uint8Array, at: number): number {
  return (u16le(b, at) | (u16le(b, at + 2) << 16)) >>> 0;
}

function ascii(b: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

const EXT_SUPERBLOCK = 1024;
// Features only ext4 has: extents, 64bit, mmp, flex_bg, ea_inode, csum_seed, largedir, inline_data, encrypt.
const EXT4_INCOMPAT = 0x40 | 0x80 | 0x100 | 0x200 | 0x400 | 0x2000 | 0x4000 | 0x8000 | 0x10000;
const EXT4_RO_COMPAT = 0x8 | 0x10 | 0x20 | 0x40 | 0x400; // huge_file, gdt_csum, dir_nlink, extra_isize, metadata_csum
const EXT3_COMPAT_JOURNAL = 0x4;

function extKind(b: Uint8Array): string {
  const compat = u32le(b, EXT_SUPERBLOCK + 0x5c);
  const incompat = u32le(b, EXT_SUPERBLOCK + 0x60);
  const roCompat = u32le(b, EXT_SUPERBLOCK + 0x64);
  if (incompat & EXT4_INCOMPAT || roCompat & EXT4_RO_COMPAT) return 'ext4';
  return compat & EXT3_COMPAT_JOURNAL ? 'ext3' : 'ext2';
}

/** The filesystem type in the first DETECT_BYTES of a device, or null if none is known. */
export function detectFsType(b: Uint8Array): string | null {
  if (ascii(b, 0, 'hsqs')) return 'squashfs';
  if (ascii(b, 0, 'XFSB')) return 'xfs';
  if (u32le(b, 1024) === 0xe0f5e1e2) return 'erofs';
  if (u16le(b, EXT_SUPERBLOCK + 0x38) === 0xef53) return extKind(b);
  if (ascii(b, 0x8001, 'CD001')) return 'iso9660';
  if (ascii(b, 0x10040, '_BHRfS_M')) return 'btrfs';
  if (u16le(b, 510) === 0xaa55 && (ascii(b, 0x36, 'FAT') || ascii(b, 0x52, 'FAT32'))) return 'vfat';
  return null;
}

// The kernel module that provides each type, where the name differs.
const FS_MODULE: Readonly<Record<string, string>> = { ext2: 'ext4', ext3: 'ext4', iso9660: 'isofs' };

export function fsModule(fsType: string): string {
  return FS_MODULE[fsType] ?? fsType;
}
