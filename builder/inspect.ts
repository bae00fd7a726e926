// cowboot list IMAGE, cowboot cat IMAGE PATH: what is in an image.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { archiveLength, entryKind, readCpio, type ReadEntry } from './cpio';
import { type Compression, COMPRESSIONS, detectFormat, FORMATS } from './formats';
import { BuildError, findTool } from './host';
import { IMAGE_UNIONS } from '../src/layout/image-paths';
import { parseCarried } from '../src/union/carried';

const hex = (bytes: readonly number[]) => bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');

function expectedFormats(): string {
  const names = COMPRESSIONS.map((name) => {
    const format = FORMATS[name];
    return `${format.kind === 'uncompressed' ? 'an uncompressed newc cpio' : name} (${hex(format.magic)})`;
  });
  return `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** One archive of an image: the kernel unpacks them in turn, each compressed its own way or not at all. */
export interface Segment {
  readonly format: Compression;
  readonly offset: number;
  /** The archive, decompressed. */
  readonly cpio: Uint8Array;
}

// An uncompressed archive ends at its trailer; a compressed one runs to the
// end of the file (the builder writes at most one, last).
export function imageSegments(path: string): Segment[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new BuildError(`${path}: ${(error as Error).message}`);
  }
  const segments: Segment[] = [];
  let at = 0;
  while (at < bytes.length) {
    // Archives are padded with zeros, as the kernel allows between them.
    if (bytes[at] === 0) {
      at++;
      continue;
    }
    const rest = bytes.subarray(at);
    const name = detectFormat(rest);
    if (name === undefined) {
      const what = at === 0 ? 'it starts with' : `at byte ${at} it has`;
      throw new BuildError(`${path} is not an initramfs: ${what} ${hex([...rest.subarray(0, 6)])}; expected ${expectedFormats()}`);
    }
    const format = FORMATS[name];
    if (format.kind === 'compressed') {
      segments.push({ format: name, offset: at, cpio: execFileSync(findTool(format.tool), format.decompressArgs, { input: rest, maxBuffer: 1 << 30 }) });
      break;
    }
    const length = cpioLength(rest, path, at);
    segments.push({ format: name, offset: at, cpio: rest.subarray(0, length) });
    at += length;
  }
  return segments;
}

function cpioLength(archive: Buffer, path: string, offset: number): number {
  try {
    return archiveLength(archive);
  } catch (error) {
    throw new BuildError(`${path} is not an initramfs (a newc cpio at byte ${offset}): ${(error as Error).message}`);
  }
}

/** The image's cpio entries, in the order the kernel unpacks them, whichever formats the builder wrote. */
export function readImage(path: string): ReadEntry[] {
  return imageSegments(path).flatMap((segment) => {
    try {
      return readCpio(segment.cpio);
    } catch (error) {
      const how = segment.format === 'none' ? '' : ` in ${segment.format}`;
      throw new BuildError(`${path} is not an initramfs (a newc cpio${how} at byte ${segment.offset}): ${(error as Error).message}`);
    }
  });
}

/** The bytes the kernel unpacks: each archive, decompressed. */
export function unpackedSize(path: string): number {
  return imageSegments(path).reduce((sum, segment) => sum + segment.cpio.length, 0);
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

/** The last line of a listing: the overlay= kinds the image carries, from its IMAGE_UNIONS. */
export function unionsLine(entries: readonly ReadEntry[]): string {
  const file = entries.find((e) => `/${e.path}` === IMAGE_UNIONS);
  const kinds = file ? parseCarried(Buffer.from(file.data).toString()) : null;
  return `union kinds: ${kinds ? kinds.join(', ') : `unknown (no readable ${IMAGE_UNIONS})`}\n`;
}

export function fileContent(entries: readonly ReadEntry[], path: string): Uint8Array {
  const wanted = path.replace(/^\/+/, '');
  const entry = entries.find((e) => e.path === wanted);
  if (!entry) throw new BuildError(`${path}: not in the image (cowboot list IMAGE shows what is)`);
  if (entryKind(entry.mode) !== 'file') throw new BuildError(`${path}: a ${entryKind(entry.mode)}, not a file`);
  return entry.data;
}
