import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync } from 'node:fs';
import { BuildError, findTool, TOOLS } from './host';

export const COMPRESSIONS = ['zstd', 'gzip', 'xz', 'none'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

export function isCompression(value: string): value is Compression {
  return (COMPRESSIONS as readonly string[]).includes(value);
}

// zstd -10 packs the ~120 MB image in a few seconds on two cores; levels
// above 15 take minutes for a few percent. xz needs crc32 for the kernel.
function compressor(kind: Exclude<Compression, 'none'>): string[] {
  switch (kind) {
    case 'zstd':
      return [findTool(TOOLS.zstd), '-q', '-T0', '-10', '-c'];
    case 'gzip':
      return [findTool(TOOLS.gzip), '-n', '-6', '-c'];
    case 'xz':
      return [findTool(TOOLS.xz), '-T0', '--check=crc32', '-6', '-c'];
  }
}

/** Compresses `input` into `output` (a file path); `none` copies. */
export function compressFile(kind: Compression, input: string, output: string): void {
  if (kind === 'none') {
    copyFileSync(input, output);
    return;
  }
  const [tool, ...args] = compressor(kind);
  const fd = openSync(output, 'w');
  try {
    execFileSync(tool!, [...args, input], { stdio: ['ignore', fd, 'inherit'] });
  } catch (error) {
    throw new BuildError(`${tool} failed: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
