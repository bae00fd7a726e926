import type { Context } from './context';
import { exec } from './exec';
import { NEW_ROOT } from './image-layout';

export interface MountSpec {
  readonly type: string;
  readonly source: string;
  readonly target: string;
  readonly options: string;
}

export function mountCommand(spec: MountSpec): string[] {
  return ['mount', '-t', spec.type, '-o', spec.options, spec.source, spec.target];
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
    // Fields are space-separated with spaces in paths escaped as \040.
    return new Set(text.split('\n').map((line) => (line.split(' ')[1] ?? '').replaceAll('\\040', ' ')).filter(Boolean));
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
  await exec(ctx, mountCommand(spec), hint);
}
