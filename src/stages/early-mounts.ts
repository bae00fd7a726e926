import type { Stage } from './results';
import { API_FILESYSTEMS } from '../core/api-mounts';
import { mountOnce } from '../core/mount';

export const earlyMounts: Stage<'early-mounts'> = {
  name: 'early-mounts',
  async run(ctx) {
    for (const spec of API_FILESYSTEMS) await mountOnce(ctx, spec);
  },
};
