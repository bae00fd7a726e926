// Debian's nfs-ganesha (unpacked by setup, as nginx is), serving folders
// read-only over NFSv4 on a loopback port, for the NFS-root tests: the
// guest reaches it at 10.0.2.2 through QEMU's user network. This machine's
// kernel has no NFS server (no nfsd), so the kernel's own cannot be tested
// here; ganesha speaks the same protocol from user space. NFSv4 only: it
// needs neither rpcbind nor mountd, which cowboot's mount does not use.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR, VM_CACHE } from './project';
import { type Daemon, freePort, HOST_FROM_GUEST, loopbackDaemon } from './loopback-daemon';

const GANESHA = join(PROJECT_DIR, '.cache', 'servers', 'nfs-ganesha');
const NFSD = join(GANESHA, 'usr', 'bin', 'ganesha.nfsd');

export interface NfsServer extends Daemon {
  /** root= for an export, as the guest reaches it. */
  root(pseudo: string): string;
}

/** `exports`: the folder served at each pseudo path (/fleet: the guest mounts SERVER:/fleet). */
export async function startNfsServer(name: string, exports: Readonly<Record<string, string>>): Promise<NfsServer> {
  if (!existsSync(NFSD)) throw new Error(`no ganesha.nfsd at ${NFSD}: run "node scripts/setup.mjs" as root (npm test does), which unpacks Debian's nfs-ganesha`);
  const port = await freePort();
  const dir = join(VM_CACHE, `nfs-server.${name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'recovery'), { recursive: true });
  const conf = join(dir, 'ganesha.conf');
  const blocks = Object.entries(exports).map(
    ([pseudo, path], i) => `EXPORT {\n  Export_Id = ${i + 1};\n  Path = ${path};\n  Pseudo = ${pseudo};\n  Access_Type = RO;\n  Squash = No_Root_Squash;\n  Protocols = 4;\n  Transports = TCP;\n  SecType = sys;\n  FSAL { Name = VFS; }\n}\n`,
  );
  writeFileSync(
    conf,
    [
      'NFS_CORE_PARAM {',
      '  Protocols = 4;',
      `  NFS_Port = ${port};`,
      '  Bind_addr = 127.0.0.1;',
      `  Plugins_Dir = ${join(GANESHA, 'usr', 'lib', 'x86_64-linux-gnu', 'ganesha')};`,
      '  Enable_NLM = false;',
      '  Enable_RQUOTA = false;',
      '  Enable_UDP = false;',
      '}',
      // No grace period: the tests' clients are new, with no state to reclaim.
      `NFSv4 {\n  Graceless = true;\n  RecoveryRoot = ${join(dir, 'recovery')};\n  Allow_Numeric_Owners = true;\n  Only_Numeric_Owners = true;\n}`,
      ...blocks,
    ].join('\n'),
  );
  const server: NfsServer = {
    // In the foreground (-F), with its library beside it: the package's runpath is /usr/lib/ganesha, which is not installed here.
    ...loopbackDaemon('ganesha.nfsd', port, ['env', `LD_LIBRARY_PATH=${join(GANESHA, 'usr', 'lib', 'ganesha')}`, NFSD, '-F', '-f', conf, '-L', join(dir, 'ganesha.log'), '-p', join(dir, 'pid')]),
    root: (pseudo) => `nfs:${HOST_FROM_GUEST}:${pseudo}:port=${port}`,
  };
  await server.start();
  return server;
}
