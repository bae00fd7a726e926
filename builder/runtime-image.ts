// The runtime packed as a squashfs image, for --pack-runtime squashfs: the
// kernel then decompresses only the pages the runtime runs, when it runs
// them, instead of the whole binary into RAM before /init starts.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BuildError, findTool, TOOLS } from './host';

// zstd -19 in 1 MiB blocks: of the choices npm run bench:runtime-image
// measures, the one that is both smaller and faster to boot than Node
// unpacked from the cpio. xz is smaller still and doubles the boot's time
// (the kernel's xz is slow to decompress); lz4 boots fastest and is the
// largest. Fixed times and owners make the image the same bytes at every build.
export const SQUASHFS_COMPRESSION = ['-comp', 'zstd', '-Xcompression-level', '19', '-b', '1M'] as const;
const SQUASHFS_FIXED = ['-noappend', '-no-xattrs', '-all-root', '-mkfs-time', '0', '-all-time', '0', '-quiet', '-no-progress'] as const;

/** Packs `binary` as the only file of a squashfs image at `output`, named `fileName` there. */
export function squashRuntime(binary: string, fileName: string, output: string, compression: readonly string[] = SQUASHFS_COMPRESSION): void {
  const work = `${output}.tmp-${process.pid}`;
  const tree = join(work, 'tree');
  try {
    mkdirSync(tree, { recursive: true });
    copyFileSync(binary, join(tree, fileName));
    execFileSync(findTool(TOOLS.mksquashfs), [tree, join(work, 'image'), ...compression, ...SQUASHFS_FIXED], { stdio: ['ignore', 'ignore', 'pipe'] });
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
export function cachedRuntimeImage(binary: string, fileName: string, key: string, cacheDir: string, progress: (line: string) => void): string {
  const digest = createHash('sha256').update([...SQUASHFS_COMPRESSION, ...SQUASHFS_FIXED].join(' ')).digest('hex').slice(0, 8);
  const output = join(cacheDir, `${key}-${digest}.squashfs`);
  if (!existsSync(output)) {
    progress(`packing ${key} as a squashfs image (mksquashfs ${SQUASHFS_COMPRESSION.join(' ')})`);
    squashRuntime(binary, fileName, output);
  }
  return output;
}
