import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync } from 'node:fs';
import { type Compression, FORMATS } from './formats';
import { BuildError, findTool } from './host';

/** Compresses `input` into `output` (a file path); `none` copies. */
export function compressFile(kind: Compression, input: string, output: string, level?: number): void {
  const format = FORMATS[kind];
  if (format.kind === 'uncompressed') {
    copyFileSync(input, output);
    return;
  }
  const tool = findTool(format.tool);
  const fd = openSync(output, 'w');
  try {
    execFileSync(tool, [...format.compressArgs(level ?? format.levels.default), input], { stdio: ['ignore', fd, 'inherit'] });
  } catch (error) {
    throw new BuildError(`${tool} failed: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}
