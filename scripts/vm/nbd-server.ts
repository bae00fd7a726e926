// Debian's nbd-server (unpacked by scripts/setup.mjs, never installed)
// exporting files read-only on a loopback port, for the NBD-root tests: the
// guest reaches it at 10.0.2.2 through QEMU's user network. Each export is
// a section of its configuration, named as root=nbd:HOST:PORT:NAME names it.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR, VM_CACHE } from './project';
import { type Daemon, freePort, HOST_FROM_GUEST, loopbackDaemon } from './loopback-daemon';

const NBD_SERVER = join(PROJECT_DIR, '.cache', 'servers', 'nbd-server', 'bin', 'nbd-server');

export interface NbdServer extends Daemon {
  /** root= for an export, as the guest reaches it. */
  root(name: string): string;
}

/** nbd-server on 127.0.0.1, exporting each file of `exports` (name → path) read-only. */
export async function startNbdServer(name: string, exports: Readonly<Record<string, string>>): Promise<NbdServer> {
  if (!existsSync(NBD_SERVER)) throw new Error(`no nbd-server at ${NBD_SERVER}: run "node scripts/setup.mjs" as root (npm test does), which unpacks Debian's`);
  const port = await freePort();
  const dir = join(VM_CACHE, `${name}.nbd`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'config');
  const sections = Object.entries(exports).map(([section, path]) => `[${section}]\nexportname = ${path}\nreadonly = true\n`);
  writeFileSync(conf, `[generic]\nport = ${port}\nlistenaddr = 127.0.0.1\nallowlist = true\n\n${sections.join('\n')}`);
  const server: NbdServer = {
    // Forked, as it runs for real: in the foreground (-d) it serves one client and exits.
    ...loopbackDaemon('nbd-server', port, [NBD_SERVER, '-C', conf, '-p', join(dir, 'pid')], join(dir, 'pid')),
    root: (section) => `nbd:${HOST_FROM_GUEST}:${port}:${section}`,
  };
  await server.start();
  return server;
}
