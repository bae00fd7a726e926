import type { Context } from '../core/context';
import { fstabLine } from '../formats/fstab';
import { cowFolders } from './cow-space';
import type { UnionKind } from './kind';
import { tmpfsFull } from './fill';
import { exec } from '../core/exec';
import { NEW_ROOT } from '../layout/image-paths';
import { HANDOVER_DIR, RO_DIR, UPPER_DIR } from '../layout/boot-paths';

/**
 * systemd spares processes whose argv[0] starts with "@" when it kills
 * everything at shutdown (docs/ROOT_STORAGE_DAEMONS.md): the daemon serving
 * the root must outlive the processes that use it.
 */
const UNIONFS_ARGV0 = '@unionfs';
/** Debian sysvinit's sendsigs spares the pids listed in this folder's files. */
const SENDSIGS_OMIT = '/run/sendsigs.omit.d/cowboot-unionfs';

/** `path` as the daemon sees it from inside its chroot. */
function inChroot(path: string): string {
  return path.slice(HANDOVER_DIR.length);
}

/**
 * At shutdown systemd stops every process, the daemon too, with
 * kill(-1, SIGSTOP), then walks /proc (and, in the SIGKILL round, looks at
 * /etc/initrd-release and stats its own root) before it lets them go on. A
 * path walk from "/" crosses the union's dentries (even /proc's mount point),
 * and any that the kernel must ask the stopped daemon about hangs PID 1 for
 * ever. With these timeouts the kernel keeps what it has looked up (names,
 * missing names, attributes) and asks again only after its own changes, which
 * kernel_cache already relies on: nothing changes the branches behind the
 * kernel's back.
 */
const CACHE_FOR_EVER = 'entry_timeout=1000000000,negative_timeout=1000000000,attr_timeout=1000000000';

// The seed's invocation, plus a readable name for the mount despite the "@".
// chroot= pins the daemon's root to the folder that holds both branches, so
// its branch paths stay valid after that folder (with /run) is moved into the
// new root and the initramfs is deleted.
function unionfsCommand(): string[] {
  return [
    'unionfs',
    '-o', 'allow_other,use_ino,suid,dev,nonempty,kernel_cache',
    '-o', CACHE_FOR_EVER,
    '-o', `cow,chroot=${HANDOVER_DIR},max_files=32768`,
    '-o', 'fsname=unionfs,subtype=unionfs',
    `${inChroot(UPPER_DIR)}=RW:${inChroot(RO_DIR)}=RO`,
    NEW_ROOT,
  ];
}

/** The pid of the daemon serving NEW_ROOT (it forks away from the process we start). */
function findDaemon(ctx: Context): number | null {
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

async function mountUnionfs(ctx: Context): Promise<void> {
  await exec(ctx, unionfsCommand(), 'is /dev/fuse there? The fuse module must be loaded', { argv0: UNIONFS_ARGV0 });
  const pid = findDaemon(ctx);
  if (pid === null) {
    ctx.log.warn(`cannot find the ${UNIONFS_ARGV0} daemon; shutdown may kill it before the root is unmounted`);
    return;
  }
  ctx.sys.mkdirp('/run/sendsigs.omit.d');
  ctx.sys.writeText(SENDSIGS_OMIT, `${pid}\n`);
  // Killed for memory, the daemon would take the root, and then init, with it: a kernel panic.
  ctx.sys.writeText(`/proc/${pid}/oom_score_adj`, '-1000\n');
  ctx.log.info(`unionfs daemon ${UNIONFS_ARGV0} is pid ${pid}, listed in ${SENDSIGS_OMIT}, never killed for memory (oom_score_adj -1000)`);
}

export const unionfs: UnionKind = {
  modules: ['fuse'],
  onDemand: [],
  rootUse: () => 'read-only folder',
  program: { path: '/usr/bin/unionfs', debianPackage: 'unionfs-fuse', unpackaged: 'Debian 13 and later have no package for it' },
  persists: 'folders',
  refuses: null,
  makeCow: (ctx) => cowFolders(ctx, ctx.config.cowsize),
  mount: mountUnionfs,
  fstabRoot: () => fstabLine('unionfs', '/', 'fuse.unionfs', ['rw']),
  sharedDevice: null,
  ramLayer: { holds: 'cow tmpfs', whenFull: tmpfsFull('the root') },
  // systemd-shutdown then need not look for /etc/initrd-release on the union while the daemon is stopped.
  initEnv: { SYSTEMD_IN_INITRD: '0' },
};
