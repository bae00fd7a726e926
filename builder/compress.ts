import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync } from 'node:fs';
import { BuildError, findTool, TOOLS } from './host';

export const COMPRESSIONS = ['zstd', 'gzip', 'xz', 'lz4', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export function isCompression(value: string): value is Compression {
  return (COMPRESSIONS as readonly string[]).includes(value);
}

/** Each compressor's levels, and the default: zstd -10 packs in seconds and was the fastest to boot (npm run bench:compress). */
export const LEVELS: Readonly<Record<Exclude<Compression, 'none'>, { readonly min: number; readonly max: number; readonly default: number }>> = {
  zstd: { min: 1, max: 19, default: 10 },
  gzip: { min: 1, max: 9, default: 6 },
  xz: { min: 0, max: 9, default: 6 },
  lz4: { min: 1, max: 12, default: 9 },
};

// The kernel reads xz only with crc32 checks, and lz4 only in its legacy format.
function compressor(kind: Exclude<Compression, 'none'>, level: number): string[] {
  switch (kind) {
    case 'zstd':
      return [findTool(TOOLS.zstd), '-q', '-T0', `-${level}`, '-c'];
    case 'gzip':
      return [findTool(TOOLS.gzip), '-n', `-${level}`, '-c'];
    case 'xz':
      return [findTool(TOOLS.xz), '-T0', '--check=crc32', `-${level}`, '-c'];
    case 'lz4':
      return [findTool(TOOLS.lz4), '-q', '-l', `-${level}`, '-c'];
  }
}

/** Compresses `input` into `output` (a file path); `none` copies. */
export function compressFile(kind: Compression, input: string, output: string, level?: number): void {
  if (kind === 'none') {
    copyFileSync(input, output);
    return;
  }
  const [tool, ...args] = compressor(kind, level ?? LEVELS[kind].default);
  const fd = openSync(output, 'w');
  try {
    execFileSync(tool!, [...args, input], { stdio: ['ignore', fd, 'inherit'] });
  } catch (error) {
    throw new BuildError(`${tool} failed: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
