// root=nfs: and nfsroot=: a root served over NFSv4 by Debian's nfs-ganesha
// on this machine's loopback (its kernel has no NFS server), through QEMU's
// user network. The export is mounted read-only, the union on top, in
// dracut's form under overlayfs and in the kernel's under unionfs; the
// served folder is the same before and after. A server that is not there
// is a bounded wait, then the failure policy, naming it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { makeGuestTree } from '../../scripts/vm/guest';
import { freePort, HOST_FROM_GUEST, USER_NET } from '../../scripts/vm/loopback-daemon';
import { netbootImage } from '../../scripts/vm/netboot-image';
import { type NfsServer, startNfsServer } from '../../scripts/vm/nfs-server';
import { eventsIn } from '../../src/core/events';
import { bootMedium } from './harness';

const INIT = `#!/bin/sh
mount -t proc proc /proc 2>/dev/null
echo "GUEST root=$(awk '$2=="/"{print $1" "$3}' /proc/mounts)"
echo "GUEST nfs=$(awk '$3=="nfs4"{split($4,o,","); print $1" "$2" "o[1]}' /proc/mounts)"
echo "GUEST payload=$(sha256sum /payload | cut -c1-16)"
echo "GUEST eth0=$(ip -4 -o address show dev eth0 | awk '{print $4}')"
echo "GUEST handover=$(ls /run/systemd/network/10-cowboot-eth0.network /run/NetworkManager/conf.d/90-cowboot-eth0.conf /run/network/ifstate.eth0 /run/net-eth0.conf 2>/dev/null | wc -l)"
if echo changed > /payload && echo new > /etc/new; then echo "GUEST writable=$(cut -c1-7 /payload) $(cat /etc/new)"; fi
echo "GUEST done"
poweroff -f
`;

let image = '';
let tree = '';
let payloadSum = '';
let server: NfsServer;

/** The served folder's names and contents, as one hash: what the client must not change. */
function treeSum(dir: string): string {
  const tar = execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', dir, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
  return execFileSync('sha256sum', { input: tar }).toString().slice(0, 16);
}

test.before(async () => {
  image = netbootImage().image;
  const payload = randomBytes(1 << 20).toString('base64');
  tree = makeGuestTree('nfs-root', { init: INIT, files: { '/payload': payload } });
  payloadSum = execFileSync('sha256sum', { input: payload }).toString().slice(0, 16);
  server = await startNfsServer('nfs-root', { '/fleet': tree });
});

test.after(async () => {
  await server?.stop();
});

const table: string[] = [];
test.after(() => console.log(['', '| case | printed |', '|---|---|', ...table].join('\n')));

for (const { form, union, root } of [
  { form: "dracut's root=nfs:", union: 'overlayfs', root: () => server.root('/fleet') },
  { form: "the kernel's root=/dev/nfs nfsroot=", union: 'unionfs', root: () => `/dev/nfs nfsroot=${HOST_FROM_GUEST}:/fleet,port=${server.port}` },
]) {
  test(`${form}: the export mounted read-only over NFSv4, ${union} on top, the network kept, the served folder unchanged`, async () => {
    const before = treeSum(tree);
    const booted = await bootMedium({
      name: `nfs-root-${union}`,
      image,
      medium: { devices: [], files: [] },
      network: USER_NET,
      append: `root=${root()} overlay=${union}`,
      timeoutMs: 300_000,
    });
    const [mounted] = eventsIn(booted.console, 'nfs-mounted');
    assert.ok(mounted, 'no nfs-mounted event');
    assert.is(mounted!.address, HOST_FROM_GUEST);
    assert.equal(booted.report('nfs'), [`${HOST_FROM_GUEST}:/fleet /run/initramfs/ro ro`]);
    assert.match(booted.report('root')[0] ?? '', union === 'overlayfs' ? /^overlay overlay$/ : /fuse/);
    assert.equal(booted.report('payload'), [payloadSum]);
    assert.equal(booted.report('writable'), ['changed new']);
    assert.equal(booted.report('eth0'), ['10.0.2.15/24']);
    assert.equal(booted.report('handover'), ['4']);
    assert.is(treeSum(tree), before, 'the served folder changed');
    table.push(`| NFS, ${form}, ${union} | "${/nfs: \S+ mounted read-only[^\n]*/.exec(booted.console)?.[0]}"; / is ${booted.report('root')[0]}; the export ${booted.report('nfs')[0]} |`);
  });
}

test('a server that is not there: tried until rootdelay= runs out, then the failure policy, naming it', async () => {
  const port = await freePort();
  const booted = await bootMedium({
    name: 'nfs-root-absent',
    image,
    medium: { devices: [], files: [] },
    network: USER_NET,
    append: `root=nfs:${HOST_FROM_GUEST}:/fleet:port=${port} rootdelay=5 rd.shell=0 rd.emergency=poweroff`,
    finishes: false,
  });
  const line = new RegExp(`the NFS server ${HOST_FROM_GUEST.replaceAll('.', '\\.')} port ${port} was not reached within 5 s [^\\n]*`).exec(booted.console)?.[0];
  assert.ok(line, 'no message naming the server');
  assert.not.match(booted.console, /GUEST root=/);
  table.push(`| NFS server absent | "${line.trim()}" |`);
});

test.run();
