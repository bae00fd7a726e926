// overlay=dm: a device-mapper snapshot of the root device, as in the seed
// ("dmsetup create sandbox --table '0 $SZ snapshot $DEV /dev/ram0 N 1'"),
// with two changes. PO (persistent with overflow) instead of N: when the COW
// device is full, writes fail with EIO and the system goes on, where N
// invalidates the whole snapshot and every read fails too. And a chunk of
// cowchunk= sectors (8, 4 KiB, by default; see the README for the figures).

import type { Context } from '../context';
import { BootError } from '../errors';
import { exec } from '../exec';
import { DM_NAME, NEW_ROOT } from '../paths';
import { sectors } from '../storage/block';

export function snapshotTable(originSectors: number, origin: string, cow: string, chunk: number): string {
  return `0 ${originSectors} snapshot ${origin} ${cow} PO ${chunk}`;
}

/** ext2/3/4 on a snapshot: no background inode-table zeroing eating the COW, and a full COW remounts read-only, never panics. */
export function snapshotMountOptions(fsType: string, rootflags: string | null): string {
  const ext = ['ext2', 'ext3', 'ext4'].includes(fsType) ? ['errors=remount-ro', ...(fsType === 'ext4' ? ['noinit_itable'] : [])] : [];
  return ['rw', ...ext, ...(rootflags ? [rootflags] : [])].join(',');
}

export async function mountDmSnapshot(ctx: Context): Promise<void> {
  const { rootDevice, rootFsType, cowDevice } = ctx.state;
  if (rootDevice === null || rootFsType === null || cowDevice === null) throw new BootError('internal: no root or COW device for the snapshot');
  const table = snapshotTable(sectors(ctx, rootDevice), rootDevice, cowDevice, ctx.config.cowchunk);
  // No udev in the initramfs: --noudevsync keeps dmsetup from waiting for it, and mknodes makes the node.
  await exec(ctx, ['dmsetup', '--noudevsync', 'create', DM_NAME, '--table', table], 'the dm_snapshot module must be loaded');
  await exec(ctx, ['dmsetup', '--noudevsync', 'mknodes', DM_NAME]);
  const node = `/dev/mapper/${DM_NAME}`;
  if (ctx.sys.lstat(node) === null) throw new BootError(`dmsetup made no ${node}`, { command: ['dmsetup', 'mknodes', DM_NAME] });
  await exec(ctx, ['mount', '-t', rootFsType, '-o', snapshotMountOptions(rootFsType, ctx.config.rootflags), node, NEW_ROOT]);
  ctx.log.info(`snapshot ${node}: ${table}`);
}
