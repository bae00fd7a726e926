import type { Context } from '../core/context';
import { fstabLine } from '../formats/fstab';
import { NEW_ROOT } from '../layout/image-paths';
import { RO_DIR, UPPER_DIR, WORK_DIR } from '../layout/boot-paths';
import { cowFolders } from './cow-space';
import type { UnionKind } from './kind';
import { tmpfsFull } from './fill';
import { perform } from '../core/mount';
import type { MountOp } from '../sys/mount-op';

/**
 * Filesystems overlayfs refuses as a lower layer ("filesystem on … not
 * supported"): they compare names case-insensitively (d_hash and d_compare),
 * which Linux 6.12's ovl_dentry_weird() rejects. An EFI system partition is vfat.
 */
export const REFUSED_LOWER: readonly string[] = ['vfat', 'msdos', 'exfat', 'hfsplus'];

/** overlayfs's options; upper and work must be on one filesystem. */
export function overlayOptions(lower: string, upper: string, work: string): string {
  return `lowerdir=${lower},upperdir=${upper},workdir=${work}`;
}

// Both upper and work are on the COW tmpfs.
const OVERLAYFS: MountOp = { kind: 'mount', type: 'overlay', source: 'overlay', target: NEW_ROOT, options: overlayOptions(RO_DIR, UPPER_DIR, WORK_DIR) };

export const overlayfs: UnionKind = {
  modules: ['overlay'],
  onDemand: [],
  rootUse: () => 'read-only folder',
  program: null,
  persists: 'folders',
  refuses: null,
  makeCow: (ctx) => cowFolders(ctx, ctx.config.cowsize),
  async mount(ctx: Context) {
    await perform(ctx, OVERLAYFS, 'the overlay module must be loaded');
  },
  fstabRoot: () => fstabLine('overlay', '/', 'overlay', ['rw']),
  sharedDevice: null,
  ramLayer: { holds: 'cow tmpfs', whenFull: tmpfsFull('the root') },
  initEnv: {},
};
