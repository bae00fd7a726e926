import type { Context, Stage } from '../context';
import { mountOnce } from '../mount';
import { UNION_KINDS } from '../mounts';
import { MOUNTS_DIR } from '../paths';
import { cowBytes } from '../storage/cow-space';

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
  await mountOnce(ctx, { type: 'tmpfs', source: 'cow-mounts', target: MOUNTS_DIR, options: `mode=0755,size=${cowBytes(ctx, 'RAM for the changes to the other filesystems')}` });
}

export const makeCowSpace: Stage<'cow'> = {
  name: 'cow',
  async run(ctx) {
    await mountsTmpfs(ctx);
    return { device: await UNION_KINDS[ctx.config.overlay].makeCow(ctx) };
  },
};
