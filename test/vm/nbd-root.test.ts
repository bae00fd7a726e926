// root=nbd:: a root served by Debian's nbd-server on this machine's
// loopback, through QEMU's user network. A client with 512 MiB of RAM boots
// an image larger than that and reads all of it (nothing is downloaded
// whole: the page cache lets go of what was read), overlayfs on top, the
// network kept for the booted system and no nbd-client left running; an
// export the server does not have ends in the failure policy, naming it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { makeSquashfs, sha256File } from '../../scripts/vm/guest';
import { netbootImage } from '../../scripts/vm/netboot-image';
import { startNbdServer, type NbdServer } from '../../scripts/vm/nbd-server';
import { VM_CACHE } from '../../scripts/vm/project';
import { USER_NET } from '../../scripts/vm/loopback-daemon';
import { eventsIn } from '../../src/core/events';
import { bootMedium } from './harness';

const INIT = `#!/bin/sh
mount -t proc proc /proc 2>/dev/null
echo "GUEST root=$(awk '$2=="/"{r=$1" "$3} END{print r}' /proc/mounts)"
echo "GUEST memory=$(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo)"
echo "GUEST eth0=$(ip -o link show dev eth0 | grep -q '[<,]UP[,>]' && echo up) $(ip -4 -o address show dev eth0 | awk '{print $4}')"
echo "GUEST handover=$(ls /run/systemd/network/10-cowboot-eth0.network /run/NetworkManager/conf.d/90-cowboot-eth0.conf /run/network/ifstate.eth0 /run/net-eth0.conf 2>/dev/null | wc -l)"
echo "GUEST nbd-client=$(ps | grep -c '[n]bd-client')"
if grep -q readbig /proc/cmdline; then echo "GUEST big=$(sha256sum /big | cut -c1-16)"; fi
if echo x > /written; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST done"
poweroff -f
`;

// Larger than the client's RAM, and incompressible, so that squashfs keeps it at its size.
const BIG_MIB = 640;

let image = '';
let squashfs = '';
let bigSum = '';
let server: NbdServer;

test.before(async () => {
  image = netbootImage().image;
  squashfs = makeSquashfs('nbd-root', { init: INIT });
  const extra = join(VM_CACHE, 'nbd-root.big');
  rmSync(extra, { recursive: true, force: true });
  mkdirSync(extra);
  const fd = openSync(join(extra, 'big'), 'w');
  const chunk = Buffer.alloc(8 << 20);
  for (let i = 0; i < BIG_MIB / 8; i++) writeSync(fd, randomFillSync(chunk));
  closeSync(fd);
  bigSum = sha256File(join(extra, 'big')).slice(0, 16);
  // Appended to the root's image uncompressed (-noD): random bytes would not shrink, and compressing them costs a minute.
  execFileSync('mksquashfs', [extra, squashfs, '-quiet', '-noD', '-all-root'], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(extra, { recursive: true, force: true });
  server = await startNbdServer('nbd-root', { files: { live: squashfs } });
});

test.after(async () => {
  await server?.stop();
});

const table: string[] = [];
test.after(() => console.log(['', '| case | printed |', '|---|---|', ...table].join('\n')));

test(`512 MiB of RAM, an image of more than ${BIG_MIB} MiB over NBD: booted under overlayfs and read whole, the network kept for the booted system`, async () => {
  const bytes = statSync(squashfs).size;
  assert.ok(bytes > 512 << 20, `the image is only ${bytes} bytes`);
  const booted = await bootMedium({
    name: 'nbd-root',
    image,
    medium: { devices: [], files: [squashfs] },
    network: USER_NET,
    memoryMiB: 512,
    append: `root=${server.root('live')} overlay=overlayfs readbig`,
    timeoutMs: 400_000,
  });
  const [connected] = eventsIn(booted.console, 'nbd-connected');
  assert.ok(connected, 'no nbd-connected event');
  assert.is(connected!.bytes, bytes);
  assert.equal(booted.report('root'), ['overlay overlay']);
  assert.equal(booted.report('big'), [bigSum]);
  assert.equal(booted.report('writable'), ['yes']);
  assert.ok(Number(booted.report('memory')[0]) < 512, `MemTotal ${booted.report('memory')[0]} MiB`);
  assert.equal(booted.report('eth0'), ['up 10.0.2.15/24']);
  assert.equal(booted.report('handover'), ['4']);
  assert.equal(booted.report('nbd-client'), ['0'], 'nbd-client still runs: the kernel does not hold the socket alone');
  table.push(`| NBD, 512 MiB client, ${(bytes / 2 ** 20).toFixed(0)} MiB image | "${/nbd: \S+ export live is \/dev\/nbd0[^\n]*/.exec(booted.console)?.[0]}"; MemTotal ${booted.report('memory')[0]} MiB; /big (${BIG_MIB} MiB) read whole, SHA-256 matches |`);
});

test('an export the server does not have: the failure policy, naming the server and the export', async () => {
  const booted = await bootMedium({
    name: 'nbd-root-missing',
    image,
    medium: { devices: [], files: [squashfs] },
    network: USER_NET,
    append: `root=${server.root('nosuch')} rd.shell=0 rd.emergency=poweroff`,
    finishes: false,
  });
  const line = /the NBD server \S+ did not give the export nosuch/.exec(booted.console)?.[0];
  assert.ok(line, 'no message naming the server and the export');
  assert.not.match(booted.console, /GUEST root=/);
  const failed = /stage root failed: [^\n]*/.exec(booted.console)?.[0]?.trim();
  table.push(`| NBD export missing | "${failed}"; "${line}" |`);
});

test.run();
