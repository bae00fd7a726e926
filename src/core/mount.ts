import type { Context } from './context';
import { showCommand } from './errors';
import { checked } from './exec';
import { unescapeField } from '../formats/fstab';
import { NEW_ROOT } from '../layout/image-paths';
import { commandOf, type MountOp } from '../sys/mount-op';

/** A filesystem to mount: a MountOp of kind 'mount', as tables of mounts write it. */
export type MountSpec = Omit<Extract<MountOp, { kind: 'mount' }>, 'kind'>;

/** Makes `op`, or throws a BootError naming its command. */
export async function perform(ctx: Context, op: MountOp, hint?: string): Promise<void> {
  const argv = commandOf(op);
  ctx.log.debug(`run: ${showCommand(argv)}`);
  checked(argv, await ctx.sys.mount(op), hint);
}

// Once /proc has been moved into the new root, the mount table is read there.
const MOUNT_TABLES = ['/proc/self/mounts', `${NEW_ROOT}/proc/self/mounts`];

/** Mount points as seen from the initramfs; empty before /proc is mounted. */
export function mountedTargets(ctx: Context): Set<string> {
  for (const table of MOUNT_TABLES) {
    let text: string;
    try {
      text = ctx.sys.readText(table);
    } catch {
      continue;
    }
    return new Set(text.split('\n').map((line) => unescapeField(line.split(' ')[1] ?? '')).filter(Boolean));
  }
  return new Set();
}

/** Mounts unless something is already mounted there (a retry after the rescue shell). */
export async function mountOnce(ctx: Context, spec: MountSpec, hint?: string): Promise<void> {
  if (mountedTargets(ctx).has(spec.target)) {
    ctx.log.info(`${spec.target} is already mounted`);
    return;
  }
  ctx.sys.mkdirp(spec.target);
  await perform(ctx, { kind: 'mount', ...spec }, hint);
}
