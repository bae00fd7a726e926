import type { Stage } from './results';
import { NEW_ROOT } from '../layout/image-paths';
import { mountedTargets } from '../core/mount';
import { UNION_KINDS } from '../union';
import { requireModules } from '../kmod/services';

export const mountUnion: Stage<'union'> = {
  name: 'union',
  async run(ctx, before) {
    if (mountedTargets(ctx).has(NEW_ROOT)) {
      ctx.log.info(`${NEW_ROOT} is already mounted`);
      return;
    }
    ctx.sys.mkdirp(NEW_ROOT);
    await requireModules(before.drivers);
    const { overlay } = ctx.config;
    await UNION_KINDS[overlay].mount(ctx, before.root, before.cow.device);
    ctx.log.info(`new root on ${NEW_ROOT} (overlay=${overlay})`);
  },
};
