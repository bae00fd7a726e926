import type { Context, Stage } from '../context';
import { BootError } from '../errors';
import { exec } from '../exec';
import { mountOnce } from '../mount';
import { COW_DIR, DM_COW_FILE, MOUNTS_DIR, UPPER_DIR, WORK_DIR } from '../paths';
import { formatBytes, parseMeminfo, showSize, sizeInBytes } from '../size';
import { attachLoop, sectors } from '../storage/block';

// tmpfs's own default, and dracut's for its overlay: half of RAM.
const DEFAULT_COW_PERCENT = 50;

export function cowBytes(ctx: Context, what = 'copy-on-write space'): number {
  const { total } = parseMeminfo(ctx.sys.readText('/proc/meminfo'));
  const size = ctx.config.cowsize ?? { kind: 'percent', percent: DEFAULT_COW_PERCENT };
  const bytes = sizeInBytes(size, total);
  const why = ctx.config.cowsize ? `cowsize=${showSize(size)}` : `cowsize not set: ${DEFAULT_COW_PERCENT}% of RAM`;
  ctx.log.info(`${what}: ${formatBytes(bytes)} (${why}, RAM ${formatBytes(total)})`);
  return bytes;
}

/** A tmpfs of its own (not /run), so the changes can be sized and counted apart from the rest of /run. */
async function cowTmpfs(ctx: Context, bytes: number): Promise<void> {
  await mountOnce(ctx, { type: 'tmpfs', source: 'cow', target: COW_DIR, options: `mode=0755,size=${bytes}` });
}

// brd allocates its pages as they are written, like the sparse file.
async function ramDisk(ctx: Context, bytes: number): Promise<string> {
  const kib = Math.ceil(bytes / 1024);
  await exec(ctx, ['modprobe', 'brd', 'rd_nr=1', `rd_size=${kib}`, 'max_part=0'], 'cow=ram needs the brd module');
  const device = '/dev/ram0';
  if (!(await ctx.sys.waitForPath(device, 5000))) throw new BootError(`${device} did not appear after loading brd`);
  const actual = sectors(ctx, device) * 512;
  if (actual < bytes) ctx.log.warn(`${device} has ${formatBytes(actual)}, not ${formatBytes(bytes)}: brd was loaded before with other parameters`);
  return device;
}

/**
 * mounts=cow: the changes to the fstab's other filesystems get a tmpfs of
 * their own, made before the union so that, like the union's own mounts, it
 * comes before "/" in the mount table, where sysvinit's umountfs leaves it be.
 */
async function mountsTmpfs(ctx: Context): Promise<void> {
  const { overlay, rw, mounts } = ctx.config;
  if (mounts !== 'cow' || (overlay === 'none' && rw)) return;
  await mountOnce(ctx, { type: 'tmpfs', source: 'cow-mounts', target: MOUNTS_DIR, options: `mode=0755,size=${cowBytes(ctx, 'RAM for the changes to the other filesystems')}` });
}

export const makeCowSpace: Stage = {
  name: 'cow',
  async run(ctx) {
    const { overlay, cow } = ctx.config;
    await mountsTmpfs(ctx);
    switch (overlay) {
      case 'none':
        ctx.log.info('overlay=none: no copy-on-write space');
        return;
      case 'unionfs':
      case 'overlayfs':
        await cowTmpfs(ctx, cowBytes(ctx));
        ctx.sys.mkdirp(UPPER_DIR);
        ctx.sys.mkdirp(WORK_DIR);
        return;
      case 'dm': {
        const bytes = cowBytes(ctx);
        if (cow === 'ram') {
          ctx.state.cowDevice = await ramDisk(ctx, bytes);
        } else {
          // One MiB more than the file, so the file can always reach its size.
          await cowTmpfs(ctx, bytes + 1024 * 1024);
          ctx.sys.createSparseFile(DM_COW_FILE, bytes);
          ctx.state.cowDevice = await attachLoop(ctx, DM_COW_FILE, false);
        }
        ctx.log.info(`snapshot changes go to ${ctx.state.cowDevice} (cow=${cow})`);
        return;
      }
    }
  },
};
