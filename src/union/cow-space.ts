// The RAM that takes the changes: a tmpfs, or for a snapshot a block device
// (a sparse file on a tmpfs behind a loop device, or a brd RAM disk). Neither
// takes RAM before it is written.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { exec } from '../core/exec';
import { mountOnce } from '../core/mount';
import { COW_DIR, DM_COW_FILE, UPPER_DIR, WORK_DIR } from '../layout/boot-paths';
import type { Config } from '../config';
import { formatBytes, parseMeminfo, type Size, showSize, sizeInBytes } from '../formats/size';
import { attachLoop, sectors } from '../storage/block';

// tmpfs's own default, and dracut's for its overlay: half of RAM.
const DEFAULT_COW_PERCENT = 50;

/** The bytes cowsize= gives (null: not set), said in the log as `what`. */
export function cowBytes(ctx: Context, cowsize: Size | null, what = 'copy-on-write space'): number {
  const { total } = parseMeminfo(ctx.sys.readText('/proc/meminfo'));
  const size = cowsize ?? { kind: 'percent', percent: DEFAULT_COW_PERCENT };
  const bytes = sizeInBytes(size, total);
  const why = cowsize ? `cowsize=${showSize(size)}` : `cowsize not set: ${DEFAULT_COW_PERCENT}% of RAM`;
  ctx.log.info(`${what}: ${formatBytes(bytes)} (${why}, RAM ${formatBytes(total)})`);
  return bytes;
}

/** A tmpfs of its own (not /run), so the changes can be sized and counted apart from the rest of /run. */
async function cowTmpfs(ctx: Context, bytes: number): Promise<void> {
  await mountOnce(ctx, { type: 'tmpfs', source: 'cow', target: COW_DIR, options: `mode=0755,size=${bytes}` });
}

/** For a union of folders: the COW tmpfs with upper/ and work/ (on one filesystem, as overlayfs needs). */
export async function cowFolders(ctx: Context, cowsize: Size | null): Promise<null> {
  await cowTmpfs(ctx, cowBytes(ctx, cowsize));
  ctx.sys.mkdirp(UPPER_DIR);
  ctx.sys.mkdirp(WORK_DIR);
  return null;
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

/** For a snapshot: the COW device, as cow= says. */
export async function cowDevice(ctx: Context, cow: Config['cow'], cowsize: Size | null): Promise<string> {
  const bytes = cowBytes(ctx, cowsize);
  let device: string;
  if (cow === 'ram') {
    device = await ramDisk(ctx, bytes);
  } else {
    // One MiB more than the file, so the file can always reach its size.
    await cowTmpfs(ctx, bytes + 1024 * 1024);
    ctx.sys.createSparseFile(DM_COW_FILE, bytes);
    device = await attachLoop(ctx, DM_COW_FILE, false);
  }
  ctx.log.info(`snapshot changes go to ${device} (cow=${cow})`);
  return device;
}
