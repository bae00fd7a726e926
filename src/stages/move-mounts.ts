import type { Stage } from './results';
import { BootError } from '../core/errors';
import { API_MOUNTS, NEW_ROOT } from '../layout/image-paths';
import { mountedTargets, perform } from '../core/mount';

// /run carries /run/initramfs with the read-only root and the COW space, so
// the booted system can still reach both.
export const moveMounts: Stage<'move-mounts'> = {
  name: 'move-mounts',
  async run(ctx) {
    for (const source of API_MOUNTS) {
      const target = `${NEW_ROOT}${source}`;
      const mounted = mountedTargets(ctx);
      if (mounted.has(target) || !mounted.has(source)) continue;
      if (ctx.sys.lstat(target)?.kind !== 'dir') {
        try {
          ctx.sys.mkdirp(target);
        } catch (error) {
          throw new BootError(`cannot create ${target} to move ${source} into the new root: ${(error as Error).message}`, {
            hint: `the root should have an empty ${source} directory`,
          });
        }
      }
      await perform(ctx, { kind: 'move', source, target });
    }
  },
};
