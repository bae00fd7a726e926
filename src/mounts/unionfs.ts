import type { Context } from '../context';
import { exec } from '../exec';
import { HANDOVER_DIR, NEW_ROOT, RO_DIR, UPPER_DIR } from '../paths';

/**
 * systemd spares processes whose argv[0] starts with "@" when it kills
 * everything at shutdown (docs/ROOT_STORAGE_DAEMONS.md): the daemon serving
 * the root must outlive the processes that use it.
 */
export const UNIONFS_ARGV0 = '@unionfs';
/** Debian sysvinit's sendsigs spares the pids listed in this folder's files. */
export const SENDSIGS_OMIT = '/run/sendsigs.omit.d/cowboot-unionfs';

/** `path` as the daemon sees it from inside its chroot. */
function inChroot(path: string): string {
  return path.slice(HANDOVER_DIR.length);
}

// The seed's invocation, plus a readable name for the mount despite the "@".
// chroot= pins the daemon's root to the folder that holds both branches, so
// its branch paths stay valid after that folder (with /run) is moved into the
// new root and the initramfs is deleted.
export function unionfsCommand(): string[] {
  return [
    'unionfs',
    '-o', 'allow_other,use_ino,suid,dev,nonempty,kernel_cache',
    '-o', `cow,chroot=${HANDOVER_DIR},max_files=32768`,
    '-o', 'fsname=unionfs,subtype=unionfs',
    `${inChroot(UPPER_DIR)}=RW:${inChroot(RO_DIR)}=RO`,
    NEW_ROOT,
  ];
}

/** The pid of the daemon serving NEW_ROOT (it forks away from the process we start). */
export function findDaemon(ctx: Context): number | null {
  for (const name of ctx.sys.readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = ctx.sys.readText(`/proc/${name}/cmdline`).split('\0');
    } catch {
      continue;
    }
    if (argv[0] === UNIONFS_ARGV0 && argv.includes(NEW_ROOT)) return Number(name);
  }
  return null;
}

export async function mountUnionfs(ctx: Context): Promise<void> {
  await exec(ctx, unionfsCommand(), 'is /dev/fuse there? The fuse module must be loaded', { argv0: UNIONFS_ARGV0 });
  const pid = findDaemon(ctx);
  if (pid === null) {
    ctx.log.warn(`cannot find the ${UNIONFS_ARGV0} daemon; shutdown may kill it before the root is unmounted`);
    return;
  }
  ctx.sys.mkdirp('/run/sendsigs.omit.d');
  ctx.sys.writeText(SENDSIGS_OMIT, `${pid}\n`);
  ctx.log.info(`unionfs daemon ${UNIONFS_ARGV0} is pid ${pid}, listed in ${SENDSIGS_OMIT}`);
}
