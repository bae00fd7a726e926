import type { Context } from '../core/context';
import type { RootFound } from '../storage/find-device';
import { NEW_ROOT } from '../layout/image-paths';
import { RO_DIR } from '../layout/boot-paths';
import type { UnionKind } from './kind';
import { perform } from '../core/mount';

/** overlay=none: the root as it is, read-only; with rw, mounted read-write (and so written). */
async function mountWithoutUnion(ctx: Context, root: RootFound): Promise<void> {
  const { rw, rootflags } = ctx.config;
  if (!rw) {
    await perform(ctx, { kind: 'bind', source: RO_DIR, target: NEW_ROOT });
    return;
  }
  await perform(ctx, { kind: 'mount', type: root.fsType, source: root.device, target: NEW_ROOT, options: ['rw', ...(rootflags ? [rootflags] : [])].join(',') });
}

export const none: UnionKind = {
  modules: [],
  onDemand: [],
  rootUse: (config) => (config.rw ? 'writable device' : 'read-only folder'),
  program: null,
  persists: null,
  refuses: null,
  async makeCow(ctx) {
    ctx.log.info('overlay=none: no copy-on-write space');
    return null;
  },
  mount: mountWithoutUnion,
  // Read-only, the root takes no new fstab; with rw the user asked for the medium's own.
  fstabRoot: null,
  sharedDevice: null,
  ramLayer: null,
  initEnv: {},
};
