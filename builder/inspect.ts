// cowboot list IMAGE, cowboot cat IMAGE PATH: what is in an image.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { entryKind, readCpio, type ReadEntry } from './cpio';
import { COMPRESSIONS, detectFormat, FORMATS } from './formats';
import { BuildError, findTool } from './host';

const hex = (bytes: readonly number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');

function expectedFormats(): string {
  const names = COMPRESSIONS.map((name) => {
    const format = FORMATS[name];
    return `${format.kind === 'uncompressed' ? 'an uncompressed newc cpio' : name} (${hex(format.magic)})`;
  });
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** The image's cpio entries, whichever format the builder wrote it in, told by its first bytes. */
export function readImage(path: string): ReadEntry[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new BuildError(`${path}: ${(error as Error).message}`);
  }
  const name = detectFormat(bytes);
  if (name === undefined) {
    throw new BuildError(`${path} is not an initramfs: it starts with ${hex([...bytes.subarray(0, 6)])}; expected ${expectedFormats()}`);
  }
  const format = FORMATS[name];
  if (format.kind === 'compressed') bytes = execFileSync(findTool(format.tool), format.decompressArgs, { input: bytes, maxBuffer: 1 << 30 });
  try {
    return readCpio(bytes);
  } catch (error) {
    throw new BuildError(`${path} is not an initramfs (a newc cpio${format.kind === 'compressed' ? ` in ${name}` : ''}): ${(error as Error).message}`);
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
  if (!entry) throw new BuildError(`${path}: not in the image (cowboot list IMAGE shows what is)`);
  if (entryKind(entry.mode) !== 'file') throw new BuildError(`${path}: a ${entryKind(entry.mode)}, not a file`);
  return entry.data;
}
