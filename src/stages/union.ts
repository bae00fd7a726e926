import type { Stage } from '../context';
import { NEW_ROOT } from '../image-layout';
import { mountDmSnapshot } from '../mounts/dm-snapshot';
import { mountWithoutUnion } from '../mounts/none';
import { mountOverlayfs } from '../mounts/overlayfs';
import { mountUnionfs } from '../mounts/unionfs';
import { mountedTargets } from '../mount';
import { requireModules } from './drivers';

export const mountUnion: Stage = {
  name: 'union',
  async run(ctx) {
    if (mountedTargets(ctx).has(NEW_ROOT)) {
      ctx.log.info(`${NEW_ROOT} is already mounted`);
      return;
    }
    ctx.sys.mkdirp(NEW_ROOT);
    await requireModules(ctx);
    const { overlay } = ctx.config;
    switch (overlay) {
      case 'unionfs':
        await mountUnionfs(ctx);
        break;
      case 'overlayfs':
        await mountOverlayfs(ctx);
        break;
      case 'dm':
        await mountDmSnapshot(ctx);
        break;
      case 'none':
        await mountWithoutUnion(ctx);
        break;
    }
    ctx.log.info(`new root on ${NEW_ROOT} (overlay=${overlay})`);
  },
};
