// The network boot for the benchmark: the live CD's squashfs served over
// HTTP by Debian's nginx (with its SHA256SUMS, which cowboot checks and the
// peers do not read) and over NBD by Debian's nbd-server, on loopback, as
// the VM tests serve theirs; the guest reaches them at 10.0.2.2 through
// QEMU's user network and its DHCP server. Under instruction counting, the
// guest's clock does not run while it waits for the host, so the figures
// are what each tool spends, not the network's latency.

import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sha256File } from '../vm/guest';
import { startNbdServer } from '../vm/nbd-server';
import { VM_CACHE } from '../vm/project';
import { startWebServer } from '../vm/web-server';

export interface BenchServers {
  /** The squashfs's URL, as the guest reaches it. */
  readonly url: string;
  /** root=nbd: for the squashfs. */
  readonly nbdRoot: string;
  stop(): Promise<void>;
}

export async function serveBenchImage(squashfs: string): Promise<BenchServers> {
  const dir = join(VM_CACHE, 'bench-served');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'live'), { recursive: true });
  const served = join(dir, 'live', 'filesystem.squashfs');
  copyFileSync(squashfs, served);
  writeFileSync(join(dir, 'live', 'SHA256SUMS'), `${sha256File(served)}  ${basename(served)}\n`);
  const web = await startWebServer('bench', dir);
  const nbd = await startNbdServer('bench', { files: { live: served } });
  return {
    url: web.url('live/filesystem.squashfs'),
    nbdRoot: nbd.root('live'),
    async stop() {
      await web.stop();
      await nbd.stop();
    },
  };
}
