// Debian 13's nbd-server (unpacked by scripts/setup.mjs with what it links
// against, never installed, started through that folder's own dynamic
// loader; Debian 12's loses its exports on reload) exporting files
// read-only on a loopback port, for the NBD-root tests: the guest reaches
// it at 10.0.2.2 through QEMU's user network. Each export is a section of
// its configuration, named as root=nbd:HOST:PORT:NAME names it: given by
// the test, or read from the file cowboot netboot writes, copied into its
// includedir as the user is told to (nbd-server reads only the regular
// files there, not symlinks).

import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR, VM_CACHE } from './project';
import { type Daemon, freePort, HOST_FROM_GUEST, loopbackDaemon } from './loopback-daemon';

const ROOT = join(PROJECT_DIR, '.cache', 'servers', 'nbd-server-trixie');
const NBD_SERVER = join(ROOT, 'usr', 'bin', 'nbd-server');
const RUN_NBD_SERVER = [join(ROOT, 'usr', 'lib64', 'ld-linux-x86-64.so.2'), '--library-path', join(ROOT, 'usr', 'lib', 'x86_64-linux-gnu'), NBD_SERVER];

export interface NbdServer extends Daemon {
  /** root= for an export, as the guest reaches it. */
  root(name: string): string;
  /** The included file copied again, and SIGHUP: nbd-server reads its configuration again and adds the new exports. */
  reload(): void;
}

export type NbdExports = { readonly files: Readonly<Record<string, string>> } | { readonly include: string };

/** nbd-server on 127.0.0.1, exporting read-only each file given (name → path), or the sections of an included file. */
export async function startNbdServer(name: string, exports: NbdExports, port?: number): Promise<NbdServer> {
  if (!existsSync(NBD_SERVER)) throw new Error(`no nbd-server at ${NBD_SERVER}: run "node scripts/setup.mjs" as root (npm test does), which unpacks Debian 13's`);
  port ??= await freePort();
  const dir = join(VM_CACHE, `${name}.nbd`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'config');
  const pidFile = join(dir, 'pid');
  let generic = `[generic]\nport = ${port}\nlistenaddr = 127.0.0.1\nallowlist = true\n`;
  let sections = '';
  const include = () => {
    if ('include' in exports) copyFileSync(exports.include, join(dir, 'conf.d', 'cowboot.conf'));
  };
  if ('include' in exports) {
    mkdirSync(join(dir, 'conf.d'));
    include();
    generic += `includedir = ${join(dir, 'conf.d')}\n`;
  } else {
    sections = Object.entries(exports.files).map(([section, path]) => `[${section}]\nexportname = ${path}\nreadonly = true\n`).join('\n');
  }
  writeFileSync(conf, `${generic}\n${sections}`);
  const server: NbdServer = {
    // Forked, as it runs for real: in the foreground (-d) it serves one client and exits.
    ...loopbackDaemon('nbd-server', port, [...RUN_NBD_SERVER, '-C', conf, '-p', pidFile], pidFile),
    root: (section) => `nbd:${HOST_FROM_GUEST}:${port}:${section}`,
    reload: () => {
      include();
      process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGHUP');
    },
  };
  await server.start();
  return server;
}
