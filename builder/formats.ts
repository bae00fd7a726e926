// The formats an image can be written in, one row each: how to write it, how
// to read it back, and the first bytes that tell it apart. compress.ts writes
// through this table and inspect.ts reads through it, so list and cat read
// every format the builder makes. The table is typed over the names: a name
// without a row does not compile.

import { NEWC_MAGIC } from './cpio';
import { type HostTool, TOOLS } from './host';

export const COMPRESSIONS = ['zstd', 'gzip', 'xz', 'lz4', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export function isCompression(value: string): value is Compression {
  return (COMPRESSIONS as readonly string[]).includes(value);
}

type Format = Compressor | Uncompressed;

interface Compressor {
  readonly kind: 'compressed';
  readonly tool: HostTool;
  readonly levels: { readonly min: number; readonly max: number; readonly default: number };
  /** Reads the file named after these arguments, writes to stdout. */
  readonly compressArgs: (level: number) => readonly string[];
  /** Reads stdin, writes to stdout. */
  readonly decompressArgs: readonly string[];
  readonly magic: readonly number[];
}

/** The cpio as it is: copied when written, read directly. */
interface Uncompressed {
  readonly kind: 'uncompressed';
  readonly magic: readonly number[];
}

// The default levels: zstd -10 packs in seconds and was the fastest to boot
// (npm run bench:compress). The kernel reads xz only with crc32 checks, and
// lz4 only in its legacy format (-l).
export const FORMATS: Readonly<Record<Compression, Format>> = {
  zstd: {
    kind: 'compressed',
    tool: TOOLS.zstd,
    levels: { min: 1, max: 19, default: 10 },
    compressArgs: (level) => ['-q', '-T0', `-${level}`, '-c'],
    decompressArgs: ['-d', '-c', '-q'],
    magic: [0x28, 0xb5, 0x2f, 0xfd],
  },
  gzip: {
    kind: 'compressed',
    tool: TOOLS.gzip,
    levels: { min: 1, max: 9, default: 6 },
    compressArgs: (level) => ['-n', `-${level}`, '-c'],
    decompressArgs: ['-d', '-c'],
    magic: [0x1f, 0x8b],
  },
  xz: {
    kind: 'compressed',
    tool: TOOLS.xz,
    levels: { min: 0, max: 9, default: 6 },
    compressArgs: (level) => ['-T0', '--check=crc32', `-${level}`, '-c'],
    decompressArgs: ['-d', '-c'],
    magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00],
  },
  lz4: {
    kind: 'compressed',
    tool: TOOLS.lz4,
    levels: { min: 1, max: 12, default: 9 },
    compressArgs: (level) => ['-q', '-l', `-${level}`, '-c'],
    decompressArgs: ['-d', '-c', '-q'],
    magic: [0x02, 0x21, 0x4c, 0x18],
  },
  none: { kind: 'uncompressed', magic: [...Buffer.from(NEWC_MAGIC, 'latin1')] },
};

/** The format whose magic bytes the image starts with. */
export function detectFormat(bytes: Uint8Array): Compression | undefined {
  return COMPRESSIONS.find((name) => FORMATS[name].magic.every((byte, i) => bytes[i] === byte));
}
