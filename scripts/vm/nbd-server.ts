// Debian's nbd-server (unpacked by scripts/setup.mjs, never installed)
// exporting files read-only on a loopback port, for the NBD-root tests: the
// guest reaches it at 10.0.2.2 through QEMU's user network. Each export is
// a section of its configuration, named as root=nbd:HOST:PORT:NAME names it:
// given by the test, or read from the file cowboot netboot writes, linked
// into its includedir as the user is told to.

import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR, VM_CACHE } from './project';
import { type Daemon, freePort, HOST_FROM_GUEST, loopbackDaemon } from './loopback-daemon';

const NBD_SERVER = join(PROJECT_DIR, '.cache', 'servers', 'nbd-server', 'bin', 'nbd-server');

export interface NbdServer extends Daemon {
  /** root= for an export, as the guest reaches it. */
  root(name: string): string;
  /** SIGHUP: nbd-server reads its configuration again and adds the new exports. */
  reload(): void;
}

export type NbdExports = { readonly files: Readonly<Record<string, string>> } | { readonly include: string };

/** nbd-server on 127.0.0.1, exporting read-only each file given (name → path), or the sections of an included file. */
export async function startNbdServer(name: string, exports: NbdExports, port?: number): Promise<NbdServer> {
  if (!existsSync(NBD_SERVER)) throw new Error(`no nbd-server at ${NBD_SERVER}: run "node scripts/setup.mjs" as root (npm test does), which unpacks Debian's`);
  port ??= await freePort();
  const dir = join(VM_CACHE, `${name}.nbd`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'config');
  const pidFile = join(dir, 'pid');
  let generic = `[generic]\nport = ${port}\nlistenaddr = 127.0.0.1\nallowlist = true\n`;
  let sections = '';
  if ('include' in exports) {
    mkdirSync(join(dir, 'conf.d'));
    symlinkSync(exports.include, join(dir, 'conf.d', 'cowboot.conf'));
    generic += `includedir = ${join(dir, 'conf.d')}\n`;
  } else {
    sections = Object.entries(exports.files).map(([section, path]) => `[${section}]\nexportname = ${path}\nreadonly = true\n`).join('\n');
  }
  writeFileSync(conf, `${generic}\n${sections}`);
  const server: NbdServer = {
    // Forked, as it runs for real: in the foreground (-d) it serves one client and exits.
    ...loopbackDaemon('nbd-server', port, [NBD_SERVER, '-C', conf, '-p', pidFile], pidFile),
    root: (section) => `nbd:${HOST_FROM_GUEST}:${port}:${section}`,
    reload: () => process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGHUP'),
  };
  await server.start();
  return server;
}
