import type { Context } from '../core/context';
import type { Stage } from './results';
import { mountOnce } from '../core/mount';
import { UNION_KINDS } from '../union';
import { DM_PREFIX, MOUNTS_DIR } from '../layout/boot-paths';
import { cowBytes } from '../union/cow-space';
import { openKeptLayer } from '../persist/open';
import { prepareShutdownReturn } from '../persist/shutdown';

/**
 * The fstab's other filesystems keep their changes (mounts=cow) and their
 * journal replays in a tmpfs of their own, made before the union so that,
 * like the union's own mounts, it comes before "/" in the mount table, where
 * sysvinit's umountfs leaves it be.
 */
async function mountsTmpfs(ctx: Context): Promise<void> {
  const { overlay, mounts } = ctx.config;
  const kind = UNION_KINDS[overlay];
  if (mounts === 'fstab' || kind.fstabRoot === null || kind.rootUse(ctx.config) === 'writable device') return;
  await mountOnce(ctx, { type: 'tmpfs', source: 'cow-mounts', target: MOUNTS_DIR, options: `mode=0755,size=${cowBytes(ctx, ctx.config.cowsize, 'RAM for the changes to the other filesystems')}` });
}

/**
 * Where dmsetup is needed at shutdown: a snapshot's store (made just before),
 * or devices the root stage made (verity, a journal replay).
 */
function usesDeviceMapper(ctx: Context): boolean {
  try {
    return ctx.sys.readdir('/dev/mapper').some((name) => name.startsWith(DM_PREFIX));
  } catch {
    return false;
  }
}

export const makeCowSpace: Stage<'cow'> = {
  name: 'cow',
  async run(ctx, before) {
    await mountsTmpfs(ctx);
    const { overlay } = ctx.config;
    const kind = UNION_KINDS[overlay];
    const kept = await openKeptLayer(ctx, before.drivers, ctx.config, before.root, overlay, kind.persists);
    if (kept === null) return { device: await kind.makeCow(ctx) };
    await prepareShutdownReturn(ctx, kept, usesDeviceMapper(ctx));
    return { device: kept.store };
  },
};
