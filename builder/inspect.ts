// node build.mjs list IMAGE, node build.mjs cat IMAGE PATH: what is in an image.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { entryKind, readCpio, type ReadEntry } from './cpio';
import { BuildError } from './host';

// Each compressor by the magic bytes it writes, with the command that undoes it.
const DECOMPRESSORS: readonly { readonly magic: readonly number[]; readonly argv: readonly string[] }[] = [
  { magic: [0x28, 0xb5, 0x2f, 0xfd], argv: ['zstd', '-d', '-c', '-q'] },
  { magic: [0x1f, 0x8b], argv: ['gzip', '-d', '-c'] },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a], argv: ['xz', '-d', '-c'] },
];

export function readImage(path: string): ReadEntry[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new BuildError(`${path}: ${(error as Error).message}`);
  }
  const decompressor = DECOMPRESSORS.find((d) => d.magic.every((b, i) => bytes[i] === b));
  if (decompressor) {
    const [cmd, ...args] = decompressor.argv;
    bytes = execFileSync(cmd!, args, { input: bytes, maxBuffer: 1 << 30 });
  }
  try {
    return readCpio(bytes);
  } catch (error) {
    throw new BuildError(`${path} is not an initramfs (newc cpio, plain or zstd/gzip/xz): ${(error as Error).message}`);
  }
}

export function listing(entries: readonly ReadEntry[]): string {
  return entries
    .map((e) => {
      const kind = entryKind(e.mode);
      const mode = (e.mode & 0o7777).toString(8).padStart(4, '0');
      const detail =
        kind === 'symlink' ? ` -> ${Buffer.from(e.data).toString()}` : kind === 'chardev' ? ` (char ${e.rmajor},${e.rminor})` : kind === 'file' ? ` (${e.data.length} bytes)` : '';
      return `${kind.padEnd(7)} ${mode} /${e.path}${detail}\n`;
    })
    .join('');
}

export function fileContent(entries: readonly ReadEntry[], path: string): Uint8Array {
  const wanted = path.replace(/^\/+/, '');
  const entry = entries.find((e) => e.path === wanted);
  if (!entry) throw new BuildError(`${path}: not in the image (node build.mjs list IMAGE shows what is)`);
  if (entryKind(entry.mode) !== 'file') throw new BuildError(`${path}: a ${entryKind(entry.mode)}, not a file`);
  return entry.data;
}
