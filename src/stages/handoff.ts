import type { Context } from '../core/context';
import type { Stage } from './results';
import { BootError } from '../core/errors';
import { NEW_ROOT, RUNTIME_DIR, SWITCH_ROOT } from '../layout/image-paths';
import { mountedTargets } from '../core/mount';
import { HANDOVER_DIR, LOG_FILE } from '../layout/boot-paths';
import { UNION_KINDS } from '../union';
import { resolveInRoot } from '../sys/resolve-in-root';
import { DEVKMSG_SYSCTL } from './config';
import { runtimePagesLine } from '../core/runtime-pages';
import { startFillWatch } from '../union/fill-watch';

function checkInit(ctx: Context): void {
  const { init } = ctx.config;
  const resolved = resolveInRoot(ctx.sys, NEW_ROOT, init);
  if (!resolved.ok) {
    throw new BootError(`init ${init} not found in the new root: ${resolved.reason}`, {
      hint: 'give the right path with init=, or check that root= names the right device',
    });
  }
  if (resolved.info.kind !== 'file' || (resolved.info.mode & 0o111) === 0) {
    throw new BootError(`init ${init} (${resolved.path} in the new root) is not an executable file`, {
      hint: 'give the right path with init=',
    });
  }
}

// A log setting is not worth a failed boot: past this point the boot goes on whatever it says.
function restoreDevkmsg(ctx: Context, value: string): void {
  try {
    ctx.sys.writeText(`${NEW_ROOT}${DEVKMSG_SYSCTL}`, `${value}\n`);
  } catch (error) {
    ctx.log.warn(`could not restore ${DEVKMSG_SYSCTL} to ${value}: ${(error as Error).message}`);
  }
}

// The runtime's image (--pack-runtime squashfs) is detached, not unmounted:
// this process runs from it until the execve, and the kernel frees it, its
// loop device and the file it reads when that mapping goes. Left mounted, it
// would stay in RAM under the new root for good, as switch_root only deletes
// the files of the initramfs.
async function releaseRuntime(ctx: Context): Promise<void> {
  if (!mountedTargets(ctx).has(RUNTIME_DIR)) return;
  const argv = ['umount', '-l', RUNTIME_DIR];
  const result = await ctx.sys.run(argv);
  if (result.status !== 0) ctx.log.warn(`${argv.join(' ')} failed (${result.stderr.trim()}): the runtime's image keeps its RAM after the handoff`);
}

/**
 * Where the kernel shows a warning written to /dev/kmsg on the console by
 * itself (no quiet), the fill watcher writes only there, or the console
 * would show it twice. Read once the handoff has put printk.devkmsg back as it was:
 * with "off" the kernel drops what the watcher writes.
 */
function kernelEchoesWarnings(ctx: Context): boolean {
  let devkmsg = '';
  try {
    devkmsg = ctx.sys.readText(`${NEW_ROOT}${DEVKMSG_SYSCTL}`).trim();
  } catch {
    // Unreadable: assume the kernel's default, ratelimit, which keeps a warning every 10 s.
  }
  return devkmsg !== 'off' && ctx.log.kernelEchoes('warn');
}

// switch_root deletes the initramfs, so everything that can fail is checked
// first; after the execve there is no way back.
export const handoff: Stage<'handoff'> = {
  name: 'handoff',
  async run(ctx, before) {
    checkInit(ctx);
    // No insmod may be running when switch_root deletes the initramfs.
    await Promise.allSettled(before.drivers.background);
    const argv = ['switch_root', NEW_ROOT, ctx.config.init, ...before.config.initArgs];
    // Reading smaps walks Node's page tables, 0.3 s of a boot under
    // instruction counting, so only with rd.debug. /proc is in the new root
    // by now (move-mounts).
    const pages = ctx.config.debug ? runtimePagesLine(ctx.sys, `${NEW_ROOT}/proc`) : null;
    if (pages !== null) ctx.log.info(pages);
    ctx.log.info(`handing over: ${argv.join(' ')}`);
    if (before.config.devkmsgBefore !== null) restoreDevkmsg(ctx, before.config.devkmsgBefore);
    await startFillWatch(ctx, kernelEchoesWarnings(ctx));
    await releaseRuntime(ctx);
    // Written last so it holds the lines above; execve flushes nothing, and every write here is synchronous.
    ctx.sys.mkdirp(`${NEW_ROOT}${HANDOVER_DIR}`);
    ctx.sys.writeText(`${NEW_ROOT}${LOG_FILE}`, ctx.log.text());
    try {
      ctx.sys.execve(SWITCH_ROOT, argv, { ...ctx.kernel.env, ...UNION_KINDS[ctx.config.overlay].initEnv });
    } catch (error) {
      throw new BootError(`could not start ${SWITCH_ROOT}: ${(error as Error).message}`, { command: argv });
    }
  },
};
