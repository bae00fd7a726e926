import type { Context } from '../core/context';
import { exec } from '../core/exec';
import { mountOnce } from '../core/mount';
import { MEDIUM_DIR, TORAM_DIR } from '../layout/boot-paths';
import { formatBytes, parseMeminfo } from '../formats/size';

/** What must stay free after the copy: a quarter of RAM, for the running system and its changes. */
export function toramFits(imageBytes: number, meminfo: { total: number; available: number }): boolean {
  return imageBytes + meminfo.total / 4 <= meminfo.available;
}

/**
 * Copies the image into a tmpfs and unmounts the medium, so a CD can be
 * ejected. Returns the path to boot from: the copy, or the image on the
 * medium when it does not fit.
 */
export async function copyToRam(ctx: Context, image: string): Promise<string> {
  const bytes = ctx.sys.lstat(image)?.size ?? 0;
  const meminfo = parseMeminfo(ctx.sys.readText('/proc/meminfo'));
  if (!toramFits(bytes, meminfo)) {
    ctx.log.warn(
      `toram: the image (${formatBytes(bytes)}) does not fit in RAM with a quarter of it left free ` +
        `(${formatBytes(meminfo.available)} available of ${formatBytes(meminfo.total)}); booting from the medium instead`,
    );
    return image;
  }
  const copy = `${TORAM_DIR}/${image.slice(image.lastIndexOf('/') + 1)}`;
  await mountOnce(ctx, { type: 'tmpfs', source: 'toram', target: TORAM_DIR, options: `mode=0755,size=${bytes + 1024 * 1024}` });
  const started = ctx.sys.now();
  await ctx.sys.copyFile(image, copy);
  ctx.log.info(`toram: copied ${formatBytes(bytes)} in ${Math.round(ctx.sys.now() - started)} ms`);
  await exec(ctx, ['umount', MEDIUM_DIR]);
  ctx.log.info('toram: the medium is no longer used and can be removed');
  return copy;
}
