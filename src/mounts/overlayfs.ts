import type { Context } from '../context';
import { exec } from '../exec';
import { fstabLine } from '../fstab/fstab';
import { NEW_ROOT } from '../image-layout';
import { RO_DIR, UPPER_DIR, WORK_DIR } from '../paths';
import { cowFolders } from '../storage/cow-space';
import type { UnionKind } from './kind';

// upper and work must be on one filesystem: both are on the COW tmpfs.
export function overlayfsCommand(): string[] {
  return ['mount', '-t', 'overlay', '-o', `lowerdir=${RO_DIR},upperdir=${UPPER_DIR},workdir=${WORK_DIR}`, 'overlay', NEW_ROOT];
}

export const overlayfs: UnionKind = {
  modules: ['overlay'],
  onDemand: [],
  rootUse: () => 'read-only folder',
  refuses: null,
  makeCow: cowFolders,
  async mount(ctx: Context) {
    await exec(ctx, overlayfsCommand(), 'the overlay module must be loaded');
  },
  fstabRoot: () => fstabLine('overlay', '/', 'overlay', ['rw']),
};
