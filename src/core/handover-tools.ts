// The tools that outlive the initramfs: the shutdown return (persist=) and
// the fill watcher run busybox, and dmsetup where a snapshot is involved,
// from copies on /run, which the booted system keeps. They come from the
// image (SHUTDOWN_TOOLS lists them) and take RAM from boot to shutdown, so
// each is copied once, whichever needs it first.

import type { Context } from './context';
import { SHUTDOWN_TOOLS, type ShutdownTools } from '../layout/image-paths';
import { HANDOVER_DIR } from '../layout/boot-paths';

export const HANDOVER_BUSYBOX = `${HANDOVER_DIR}/bin/busybox`;
export const HANDOVER_DMSETUP = `${HANDOVER_DIR}/sbin/dmsetup`;

export interface HandoverTools {
  /** Bytes the copies made by this call take. */
  readonly bytes: number;
  /** dmsetup's dynamic loader and library folders, as copied (absolute, under HANDOVER_DIR); null: no loader listed. */
  readonly dmsetupLoader: { readonly loader: string; readonly libraryPath: string } | null;
}

function readTools(ctx: Context): ShutdownTools {
  return JSON.parse(ctx.sys.readText(SHUTDOWN_TOOLS)) as ShutdownTools;
}

function copiedPath(tools: ShutdownTools, path: string): string {
  if (path === tools.busybox) return HANDOVER_BUSYBOX;
  if (path === tools.dmsetup[0]) return HANDOVER_DMSETUP;
  return `${HANDOVER_DIR}${path}`;
}

/**
 * Copies busybox, and dmsetup with its libraries if asked, to HANDOVER_DIR
 * under `prefix`: "" before the moves into the new root, NEW_ROOT after.
 */
export async function copyHandoverTools(ctx: Context, prefix: string, withDmsetup: boolean): Promise<HandoverTools> {
  const tools = readTools(ctx);
  let bytes = 0;
  for (const path of [tools.busybox, ...(withDmsetup ? tools.dmsetup : [])]) {
    const to = `${prefix}${copiedPath(tools, path)}`;
    if (ctx.sys.lstat(to) !== null) continue;
    ctx.sys.mkdirp(to.slice(0, to.lastIndexOf('/')));
    await ctx.sys.copyFile(path, to);
    bytes += ctx.sys.lstat(to)?.size ?? 0;
  }
  const libraries = tools.dmsetup.slice(1);
  const loader = libraries.find((path) => /\/ld-linux[^/]*$/.test(path));
  const folders = [...new Set(libraries.filter((path) => path !== loader).map((path) => copiedPath(tools, path.slice(0, path.lastIndexOf('/')))))];
  return { bytes, dmsetupLoader: loader ? { loader: copiedPath(tools, loader), libraryPath: folders.join(':') } : null };
}
