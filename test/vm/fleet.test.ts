// A fleet from one server, as cowboot netboot writes it and Debian's nginx
// and nbd-server serve it: clients that boot from the network alone (PXE:
// QEMU's iPXE ROM, its TFTP server handing out the script, no -kernel, no
// disk), one fetching the image over HTTP, the others reading it over NBD.
// Three boot one after another; between the second and the third a new
// version is written and the NBD export reloaded, and the first two, still
// running, read their roots again from what they booted.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeSquashfs } from '../../scripts/vm/guest';
import { testKernel } from '../../scripts/vm/kernel';
import { freePort, HOST_FROM_GUEST } from '../../scripts/vm/loopback-daemon';
import { type NbdServer, startNbdServer } from '../../scripts/vm/nbd-server';
import { netbootImage, type SigningKey } from '../../scripts/vm/netboot-image';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';
import { startWebServer, type WebServer } from '../../scripts/vm/web-server';
import { eventsIn } from '../../src/core/events';
import { type Booted, bootMedium } from './harness';

// Waits on the console for the test to say go, then drops every cache and
// reads its root again: over NBD that goes to the server, to the export it
// booted.
const INIT = `#!/bin/sh
mount -t proc proc /proc 2>/dev/null
echo "GUEST version=$(cat /version) payload=$(sha256sum /payload | cut -c1-16)"
echo "GUEST ready"
read answer
sync
echo 3 > /proc/sys/vm/drop_caches
echo "GUEST again=$(cat /version) payload=$(sha256sum /payload | cut -c1-16)"
echo "GUEST done"
poweroff -f
`;

const fleetDir = join(VM_CACHE, 'fleet');
let initrd = '';
let key: SigningKey;
let web: WebServer;
let nbd: NbdServer;
let nbdPort = 0;
const images: { version: string; sum: string; squashfs: string }[] = [];

function version(name: string): { version: string; sum: string; squashfs: string } {
  const payload = randomBytes(4 << 20).toString('base64');
  const squashfs = makeSquashfs(`fleet-${name}`, { init: INIT, files: { '/version': `${name}\n`, '/payload': payload } });
  const sum = execFileSync('sha256sum', { input: payload }).toString().slice(0, 16);
  return { version: name, sum, squashfs };
}

/** cowboot netboot, as the user runs it for each new version; what it printed. */
function netboot(squashfs: string): string {
  return execFileSync(
    process.execPath,
    [
      join(PROJECT_DIR, 'bin', 'cowboot.mjs'), 'netboot', fleetDir,
      '--image', squashfs, '--initrd', initrd, '--kernel', testKernel().vmlinuz,
      '--url', web.url(''), '--sign-key', key.key, '--nbd', `${HOST_FROM_GUEST}:${nbdPort}`,
      '--append', 'console=ttyS0 overlay=overlayfs',
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
}

test.before(async () => {
  const built = netbootImage();
  initrd = built.image;
  key = built.fleet;
  rmSync(fleetDir, { recursive: true, force: true });
  images.push(version('one'), version('two'));
  web = await startWebServer('fleet', fleetDir);
  nbdPort = await freePort();
  netboot(images[0]!.squashfs);
  nbd = await startNbdServer('fleet', { include: join(fleetDir, 'server', 'nbd-server.conf') }, nbdPort);
});

test.after(async () => {
  await web?.stop();
  await nbd?.stop();
});

interface Client {
  /** Resolves once the root's init waits for the test. */
  readonly ready: Promise<void>;
  /** Lets it read its root again and power off. */
  go(): void;
  readonly booted: Promise<Booted>;
}

/** A machine with a NIC and nothing else, PXE-booting the script QEMU's TFTP server hands out. */
function client(name: string, script: string): Client {
  let type: (text: string) => void = () => undefined;
  let ready: () => void = () => undefined;
  const readied = new Promise<void>((resolve) => (ready = resolve));
  const booted = bootMedium({
    name,
    firmwareBoot: true,
    medium: { devices: [], files: [] },
    network: ['-netdev', `user,id=n0,tftp=${fleetDir},bootfile=${script}`, '-device', 'virtio-net-pci,netdev=n0,bootindex=1'],
    append: '',
    dialogue: [{ waitFor: /GUEST ready/, send: (_qmp, typeLater) => ((type = typeLater), ready()) }],
    timeoutMs: 900_000,
  });
  // A client that fails before it is ready must not leave the test waiting.
  return { ready: Promise.race([readied, booted.then(() => undefined)]), go: () => type('go\n'), booted };
}

test('PXE, three clients one after another, a new version between the second and the third: each boots the version its script named, and the first two read theirs on', async () => {
  const a = client('fleet-a-http', 'boot.ipxe');
  await a.ready;
  const b = client('fleet-b-nbd', 'boot-nbd.ipxe');
  await b.ready;
  const said = netboot(images[1]!.squashfs);
  nbd.reload();
  const c = client('fleet-c-nbd', 'boot-nbd.ipxe');
  await c.ready;
  for (const running of [a, b, c]) running.go();
  const [first, second, third] = await Promise.all([a.booted, b.booted, c.booted]);
  const [one, two] = images;
  for (const [booted, expected] of [[first, one], [second, one], [third, two]] as const) {
    assert.match(booted!.console, /iPXE/, 'not booted by iPXE');
    assert.equal(booted!.report('version'), [`${expected!.version} payload=${expected!.sum}`]);
    assert.equal(booted!.report('again'), [`${expected!.version} payload=${expected!.sum}`]);
  }
  assert.is(eventsIn(first!.console, 'image-fetched').length, 1);
  assert.match(first!.console, /fetch: SHA-256 \w+ matches \S+SHA256SUMS, signed by fleet/);
  assert.is(eventsIn(second!.console, 'nbd-connected').length, 1);
  const versions = [...readFileSync(join(fleetDir, 'server', 'nbd-server.conf'), 'utf8').matchAll(/^\[(v-[0-9a-f]{12})\]$/gm)].map((m) => m[1]);
  assert.is(versions.length, 2);
  assert.match(second!.console, new RegExp(`export ${versions[0]} is /dev/nbd0`));
  assert.match(third!.console, new RegExp(`export ${versions[1]} is /dev/nbd0`));
  console.log(['', `cowboot netboot, second version: ${said.split('\n')[0]}`, ...[first, second, third].map((booted, i) => `client ${'ABC'[i]}: ${booted!.report('version')[0]}, again ${booted!.report('again')[0]}`)].join('\n'));
});

test.run();
