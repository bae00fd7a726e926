// The "newc" cpio format the kernel unpacks as initramfs, written
// reproducibly: sorted paths, explicit parent folders, owner root, one fixed
// mtime, inode numbers assigned in order. Also read back, for tests and for
// inspecting images.

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode: number }
  | { readonly kind: 'file'; readonly path: string; readonly mode: number; readonly data: Uint8Array }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string }
  | { readonly kind: 'chardev'; readonly path: string; readonly mode: number; readonly major: number; readonly minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFMT = 0o170000;
export const NEWC_MAGIC = '070701';
const TRAILER = 'TRAILER!!!';

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export function normalizePath(path: string): string {
  const clean = path.split('/').filter((p) => p !== '' && p !== '.');
  if (clean.some((p) => p === '..') || clean.length === 0) throw new Error(`cpio: bad path ${JSON.stringify(path)}`);
  return clean.join('/');
}

function sameEntry(a: CpioEntry, b: CpioEntry): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'file' && b.kind === 'file') return a.mode === b.mode && Buffer.from(a.data).equals(Buffer.from(b.data));
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Adds missing parent folders, drops exact duplicates, refuses conflicting ones, and sorts. */
export function normalizeEntries(entries: readonly CpioEntry[]): CpioEntry[] {
  const byPath = new Map<string, CpioEntry>();
  const add = (entry: CpioEntry) => {
    const path = normalizePath(entry.path);
    const normal = { ...entry, path };
    const existing = byPath.get(path);
    if (existing && !sameEntry(existing, normal)) {
      // A folder the caller listed wins over one implied by a child.
      if (existing.kind === 'dir' && normal.kind === 'dir') return;
      throw new Error(`cpio: two different entries for /${path} (${existing.kind} and ${normal.kind})`);
    }
    byPath.set(path, normal);
  };
  for (const entry of entries) add(entry);
  for (const path of [...byPath.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      const existing = byPath.get(parent);
      if (!existing) byPath.set(parent, { kind: 'dir', path: parent, mode: 0o755 });
      else if (existing.kind !== 'dir') throw new Error(`cpio: /${parent} is a ${existing.kind} but /${path} is inside it`);
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function header(fields: { ino: number; mode: number; nlink: number; mtime: number; size: number; rmajor: number; rminor: number; name: string }): Buffer {
  const nameBytes = Buffer.from(`${fields.name}\0`);
  const text =
    NEWC_MAGIC +
    [fields.ino, fields.mode, 0, 0, fields.nlink, fields.mtime, fields.size, 0, 0, fields.rmajor, fields.rminor, nameBytes.length, 0]
      .map(hex8)
      .join('');
  return Buffer.concat([Buffer.from(text), nameBytes, Buffer.alloc(pad4(110 + nameBytes.length))]);
}

/** The archive as a list of chunks (large files are not copied). */
export function writeCpio(entries: readonly CpioEntry[], mtime: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  normalizeEntries(entries).forEach((entry, index) => {
    const ino = index + 1;
    let mode: number;
    let data: Uint8Array = new Uint8Array(0);
    let rmajor = 0;
    let rminor = 0;
    switch (entry.kind) {
      case 'dir':
        mode = S_IFDIR | entry.mode;
        break;
      case 'file':
        mode = S_IFREG | entry.mode;
        data = entry.data;
        break;
      case 'symlink':
        mode = S_IFLNK | 0o777;
        data = Buffer.from(entry.target);
        break;
      case 'chardev':
        mode = S_IFCHR | entry.mode;
        rmajor = entry.major;
        rminor = entry.minor;
        break;
    }
    const nlink = entry.kind === 'dir' ? 2 : 1;
    chunks.push(header({ ino, mode, nlink, mtime, size: data.length, rmajor, rminor, name: entry.path }));
    if (data.length > 0) chunks.push(data, Buffer.alloc(pad4(data.length)));
  });
  chunks.push(header({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, rmajor: 0, rminor: 0, name: TRAILER }));
  return chunks;
}

export interface ReadEntry {
  readonly path: string;
  readonly mode: number;
  readonly ino: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly rmajor: number;
  readonly rminor: number;
  readonly data: Uint8Array;
}

export function entryKind(mode: number): 'dir' | 'file' | 'symlink' | 'chardev' | 'other' {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'dir';
    case S_IFREG:
      return 'file';
    case S_IFLNK:
      return 'symlink';
    case S_IFCHR:
      return 'chardev';
    default:
      return 'other';
  }
}

/** Reads an uncompressed newc archive up to its trailer. */
export function readCpio(archive: Uint8Array): ReadEntry[] {
  return walkCpio(archive).entries;
}

/** The bytes of an uncompressed newc archive, up to the end of its trailer. */
export function archiveLength(archive: Uint8Array): number {
  return walkCpio(archive).length;
}

function walkCpio(archive: Uint8Array): { entries: ReadEntry[]; length: number } {
  const buf = Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength);
  const entries: ReadEntry[] = [];
  let at = 0;
  for (;;) {
    if (buf.toString('latin1', at, at + 6) !== NEWC_MAGIC) throw new Error(`cpio: no newc header at offset ${at}`);
    const field = (i: number) => parseInt(buf.toString('latin1', at + 6 + i * 8, at + 14 + i * 8), 16);
    const nameSize = field(11);
    const size = field(6);
    const name = buf.toString('utf8', at + 110, at + 110 + nameSize - 1);
    const dataStart = at + 110 + nameSize + pad4(110 + nameSize);
    if (name === TRAILER) return { entries, length: dataStart + size + pad4(size) };
    entries.push({
      path: name,
      ino: field(0),
      mode: field(1),
      uid: field(2),
      gid: field(3),
      mtime: field(5),
      rmajor: field(9),
      rminor: field(10),
      data: buf.subarray(dataStart, dataStart + size),
    });
    at = dataStart + size + pad4(size);
  }
}
