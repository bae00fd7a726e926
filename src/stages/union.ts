import type { Stage } from '../context';
import { BootError } from '../errors';
import { mountUnionfs } from '../mounts/unionfs';
import { mountedTargets } from '../mount';
import { NEW_ROOT } from '../paths';

export const mountUnion: Stage = {
  name: 'union',
  async run(ctx) {
    if (mountedTargets(ctx).has(NEW_ROOT)) {
      ctx.log.info(`${NEW_ROOT} is already mounted`);
      return;
    }
    ctx.sys.mkdirp(NEW_ROOT);
    const { overlay } = ctx.config;
    switch (overlay) {
      case 'unionfs':
        await mountUnionfs(ctx);
        break;
      case 'dm':
      case 'overlayfs':
      case 'none':
        throw new BootError(`overlay=${overlay} is not available in this version of cowboot`, { hint: 'use overlay=unionfs' });
    }
    ctx.log.info(`new root on ${NEW_ROOT} (overlay=${overlay})`);
  },
};
