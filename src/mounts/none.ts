import type { Context } from '../context';
import { BootError } from '../errors';
import { fstabLine } from '../fstab/fstab';
import { NEW_ROOT } from '../image-layout';
import { RO_DIR } from '../paths';
import type { UnionKind } from './kind';
import { perform } from '../mount';

/** overlay=none: the root as it is, read-only; with rw, mounted read-write (and so written). */
async function mountWithoutUnion(ctx: Context): Promise<void> {
  const { rw, rootflags } = ctx.config;
  if (!rw) {
    await perform(ctx, { kind: 'bind', source: RO_DIR, target: NEW_ROOT });
    return;
  }
  const { rootDevice, rootFsType } = ctx.state;
  if (rootDevice === null || rootFsType === null) throw new BootError('internal: the root stage found no root device');
  await perform(ctx, { kind: 'mount', type: rootFsType, source: rootDevice, target: NEW_ROOT, options: ['rw', ...(rootflags ? [rootflags] : [])].join(',') });
}

export const none: UnionKind = {
  modules: [],
  onDemand: [],
  rootUse: (config) => (config.rw ? 'writable device' : 'read-only folder'),
  refuses: null,
  async makeCow(ctx) {
    ctx.log.info('overlay=none: no copy-on-write space');
    return null;
  },
  mount: mountWithoutUnion,
  fstabRoot: (ctx, entry) => fstabLine(ctx.state.rootDevice ?? entry.spec, '/', ctx.state.rootFsType ?? entry.type, ['ro']),
};
