// overlay=dm: a device-mapper snapshot of the root device, as in the seed
// ("dmsetup create sandbox --table '0 $SZ snapshot $DEV /dev/ram0 N 1'"),
// with two changes. PO (persistent with overflow) instead of N: when the COW
// device is full, writes fail with EIO and the system goes on, where N
// invalidates the whole snapshot and every read fails too. And a chunk of
// cowchunk= sectors (8, 4 KiB, by default; see the README for the figures).

import type { Context } from '../core/context';
import type { RootFound } from '../storage/find-device';
import { BootError } from '../core/errors';
import { fstabLine } from '../formats/fstab';
import { NEW_ROOT } from '../layout/image-paths';
import { DM_NAME } from '../layout/boot-paths';
import { cowDevice } from './cow-space';
import { createSnapshot } from '../storage/snapshot';
import type { UnionKind } from './kind';
import { perform } from '../core/mount';

/**
 * ext2/3/4 on a snapshot: no background inode-table zeroing eating the COW,
 * and a full COW remounts read-only, never panics. ext4 also allocates at
 * write() (nodelalloc): with delayed allocation, once a full COW aborts the
 * journal, ext4 keeps the unwritten pages dirty for ever and every buffered
 * writer sleeps in balance_dirty_pages(); allocating at write() makes write()
 * fail with EROFS instead.
 */
export function snapshotMountOptions(fsType: string, rootflags: string | null): string {
  const ext = ['ext2', 'ext3', 'ext4'].includes(fsType) ? ['errors=remount-ro', ...(fsType === 'ext4' ? ['noinit_itable', 'nodelalloc'] : [])] : [];
  return ['rw', ...ext, ...(rootflags ? [rootflags] : [])].join(',');
}

async function mountDmSnapshot(ctx: Context, root: RootFound, cowDevice: string | null): Promise<void> {
  // makeCow below always makes one; only a table wired wrongly gets here without.
  if (cowDevice === null) throw new BootError('internal: no COW device for the snapshot');
  const node = await createSnapshot(ctx, DM_NAME, root.device, cowDevice, 'PO', ctx.config.cowchunk);
  await perform(ctx, { kind: 'mount', type: root.fsType, source: node, target: NEW_ROOT, options: snapshotMountOptions(root.fsType, ctx.config.rootflags) });
}

export const dm: UnionKind = {
  // brd (cow=ram) is loaded by the cow stage, with the size as its parameter.
  modules: ['dm_snapshot', 'loop'],
  onDemand: ['brd'],
  rootUse: () => 'read-only device',
  program: null,
  persists: 'store',
  // A snapshot makes a block device writable; these formats stay read-only whatever the device allows.
  refuses: {
    formats: ['squashfs', 'iso9660', 'erofs'],
    why: 'the format itself is read-only, whatever the device below allows',
    hint: 'use overlay=overlayfs or overlay=unionfs for this root',
  },
  makeCow: (ctx) => cowDevice(ctx, ctx.config.cow, ctx.config.cowsize),
  mount: mountDmSnapshot,
  // The snapshot has the medium's UUID too: name it by its own node.
  fstabRoot: (root, entry) => fstabLine(`/dev/mapper/${DM_NAME}`, '/', root.fsType, entry.options),
  sharedDevice: `/dev/mapper/${DM_NAME}`,
  ramLayer: { holds: 'snapshot', whenFull: 'every write to the root fails with an I/O error; with ext4 on Linux 6.5 and later, reads fail too (docs/unions.md)' },
  initEnv: {},
};
