// A real Debian 13 with systemd booted from the network, as a fleet's
// clients are: its root served over NFS (the folder, by nfs-ganesha) and
// over NBD (a squashfs of it, by nbd-server). systemd-networkd is enabled
// with a .network that would take every wired interface and give it
// another address: if it took the one the root is reached through, the
// address cowboot set would go and every read of the root would hang. It
// must leave that interface alone, as cowboot's handover tells it, and the
// system must boot to its end and power off.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { makeRootTree } from '../../scripts/vm/debian';
import { type NbdServer, startNbdServer } from '../../scripts/vm/nbd-server';
import { netbootImage } from '../../scripts/vm/netboot-image';
import { type NfsServer, startNfsServer } from '../../scripts/vm/nfs-server';
import { VM_CACHE } from '../../scripts/vm/project';
import { USER_NET } from '../../scripts/vm/loopback-daemon';
import { bootMedium } from './harness';

// A root on the network has no local disk to list.
const FSTAB = '# /etc/fstab: the root is on the network; no local filesystems.\n';
// What would take the interface: every wired one, a static address of its own.
const TAKEOVER = '[Match]\nName=e*\n\n[Network]\nAddress=10.0.2.99/24\n';

let image = '';
let tree = '';
let squashfs = '';
let nfs: NfsServer;
let nbd: NbdServer;

test.before(async () => {
  image = netbootImage().image;
  tree = makeRootTree('debian-network-root', 'systemd', 'trixie', FSTAB, { '/etc/systemd/network/50-takeover.network': TAKEOVER });
  // Its messages ("Created symlink …") go to stderr; on failure they are in the error.
  execFileSync('systemctl', ['--root', tree, 'enable', 'systemd-networkd.service'], { stdio: ['ignore', 'ignore', 'pipe'] });
  squashfs = join(VM_CACHE, 'debian-network-root.squashfs');
  rmSync(squashfs, { force: true });
  execFileSync('mksquashfs', [tree, squashfs, '-quiet', '-comp', 'lz4', '-noappend'], { stdio: ['ignore', 'ignore', 'inherit'] });
  nfs = await startNfsServer('debian-network-root', { '/debian': tree });
  nbd = await startNbdServer('debian-network-root', { files: { debian: squashfs } });
});

test.after(async () => {
  await nfs?.stop();
  await nbd?.stop();
  rmSync(tree, { recursive: true, force: true });
});

const table: string[] = [];
test.after(() => console.log(['', '| root | end of boot | failed units | / | eth0 (networkd) | addresses |', '|---|---|---|---|---|---|', ...table].join('\n')));

for (const { over, root } of [
  { over: 'NFS', root: () => nfs.root('/debian') },
  { over: 'NBD', root: () => nbd.root('debian') },
]) {
  test(`Debian 13, systemd, its root over ${over}: networkd leaves the root's interface, the system boots to its end and powers off`, async () => {
    const booted = await bootMedium({
      name: `debian-network-root-${over.toLowerCase()}`,
      image,
      medium: { devices: [], files: [] },
      network: USER_NET,
      append: `root=${root()} overlay=overlayfs`,
      timeoutMs: 600_000,
    });
    const state = booted.report('state')[0];
    const failed = (booted.report('failed')[0] ?? '').trim();
    table.push(`| ${over} | ${state} | ${failed || 'none'} | ${booted.report('rootfs')[0]} | ${booted.report('eth0')[0]} | ${booted.report('addresses')[0]} |`);
    assert.is(booted.report('networkd')[0], 'active', 'systemd-networkd did not run: the test would prove nothing');
    assert.is(booted.report('eth0')[0], 'unmanaged', 'networkd manages the root\'s interface');
    assert.is(booted.report('addresses')[0], '10.0.2.15', 'the address the root is reached through changed');
    assert.is(state, 'running');
    assert.is(failed, '', 'no unit failed');
    assert.equal(booted.report('rootfs'), ['overlay']);
    assert.match(booted.console, /GUEST done/);
    assert.match(booted.console, /reboot: Power down/);
  });
}

test.run();
