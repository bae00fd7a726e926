// The root's /etc/fstab, read as util-linux reads it (fields split on blanks,
// spaces in paths as \040), and the lines we write in its place.

import { parseRootSpec } from './device-spec';

export interface FstabEntry {
  readonly spec: string;
  readonly file: string;
  readonly type: string;
  readonly options: readonly string[];
  readonly pass: number;
  /** The line as written, for the new fstab's comments. */
  readonly line: string;
}

export type FstabLine = { readonly kind: 'entry'; readonly entry: FstabEntry } | { readonly kind: 'text'; readonly line: string };

/** A field of fstab or /proc/mounts: spaces and the like are written as \\040. */
export const unescapeField = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
const escape = (field: string) => field.replace(/[\s\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

export function parseFstab(text: string): FstabLine[] {
  return text.split('\n').map((line): FstabLine => {
    const fields = line.trim().split(/\s+/);
    if (line.trim() === '' || line.trim().startsWith('#') || fields.length < 3) return { kind: 'text', line };
    const [spec, file, type, options = 'defaults', , pass = '0'] = fields.map(unescapeField);
    return { kind: 'entry', entry: { spec: spec!, file: file!, type: type!, options: options.split(','), pass: Number(pass) || 0, line } };
  });
}

/**
 * What an fstab line is to a frozen system: the root; swap; a local block
 * filesystem that would be mounted at boot (a device named by path, UUID=,
 * LABEL=, PARTUUID= or PARTLABEL=); or anything else (tmpfs, network,
 * bind mounts, noauto lines), left as it is.
 */
type EntryKind = 'root' | 'swap' | 'local' | 'other';

export function entryKind(entry: FstabEntry): EntryKind {
  if (entry.file === '/') return 'root';
  if (entry.type === 'swap') return 'swap';
  const local = parseRootSpec(entry.spec) !== null && entry.file.startsWith('/') && !entry.options.includes('bind') && !entry.options.includes('noauto');
  return local ? 'local' : 'other';
}

// Options that mean something to mount(8), systemd or the init scripts and
// nothing to the kernel, which would refuse them.
const USERSPACE_OPTIONS = /^(defaults|auto|noauto|nofail|user|users|nouser|owner|group|_netdev|rw|ro|sw|comment=.*|x-.*|X-.*)$/;

/** The fstab options a read-only mount of the filesystem keeps (subvol=, noatime…). */
export function kernelOptions(entry: FstabEntry): string[] {
  return entry.options.filter((o) => o !== '' && !USERSPACE_OPTIONS.test(o));
}

/** One fstab line: pass 0, so no init checks what cowboot has mounted. */
export function fstabLine(spec: string, file: string, type: string, options: readonly string[]): string {
  return [escape(spec), escape(file), type, options.length > 0 ? options.join(',') : 'defaults', '0', '0'].join(' ');
}
