// The runtime packed as a squashfs image, for --pack-runtime squashfs: the
// kernel then decompresses only the pages the runtime runs, when it runs
// them, instead of the whole binary into RAM before /init starts.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BuildError, findTool, TOOLS } from './host';

/** A compression for the runtime's image: mksquashfs's options, and the kernel option that reads it. */
export interface SquashfsCompression {
  readonly name: string;
  readonly mksquashfs: readonly string[];
  readonly kernelConfig: string;
}

// Of the choices npm run bench:runtime-image measures: zstd -19 in 1 MiB
// blocks is the only one both smaller and faster to boot than Node unpacked
// from the cpio. lz4hc in 128 KiB blocks starts Node about 0.6 s sooner
// under instruction counting (the kernel's zstd is slow to decompress) and
// makes the image about 16 MiB larger, which the boot also holds in RAM. xz
// is the smallest and doubles the boot's time.
export const SQUASHFS_COMPRESSIONS = {
  zstd: { name: 'zstd', mksquashfs: ['-comp', 'zstd', '-Xcompression-level', '19', '-b', '1M'], kernelConfig: 'CONFIG_SQUASHFS_ZSTD' },
  lz4: { name: 'lz4', mksquashfs: ['-comp', 'lz4', '-Xhc', '-b', '128K'], kernelConfig: 'CONFIG_SQUASHFS_LZ4' },
} as const satisfies Record<string, SquashfsCompression>;
// Fixed times and owners make the image the same bytes at every build.
const SQUASHFS_FIXED = ['-noappend', '-no-xattrs', '-all-root', '-mkfs-time', '0', '-all-time', '0', '-quiet', '-no-progress'] as const;

/** Packs `binary` as the only file of a squashfs image at `output`, named `fileName` there. */
export function squashRuntime(binary: string, fileName: string, output: string, mksquashfs: readonly string[]): void {
  const work = `${output}.tmp-${process.pid}`;
  const tree = join(work, 'tree');
  try {
    mkdirSync(tree, { recursive: true });
    copyFileSync(binary, join(tree, fileName));
    execFileSync(findTool(TOOLS.mksquashfs), [tree, join(work, 'image'), ...mksquashfs, ...SQUASHFS_FIXED], { stdio: ['ignore', 'ignore', 'pipe'] });
    mkdirSync(dirname(output), { recursive: true });
    renameSync(join(work, 'image'), output);
  } catch (error) {
    throw new BuildError(`mksquashfs ${binary} failed: ${(error as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The image of `binary` as `fileName`, made once and kept in `cacheDir`
 * under `key` (the binary's name and version) and a digest of the options.
 */
export function cachedRuntimeImage(binary: string, fileName: string, key: string, cacheDir: string, compression: SquashfsCompression, progress: (line: string) => void): string {
  const digest = createHash('sha256').update([...compression.mksquashfs, ...SQUASHFS_FIXED].join(' ')).digest('hex').slice(0, 8);
  const output = join(cacheDir, `${key}-${digest}.squashfs`);
  if (!existsSync(output)) {
    progress(`packing ${key} as a squashfs image (mksquashfs ${compression.mksquashfs.join(' ')})`);
    squashRuntime(binary, fileName, output, compression.mksquashfs);
  }
  return output;
}
