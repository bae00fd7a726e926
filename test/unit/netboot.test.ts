// cowboot netboot's folder: each version in a folder of its own that is
// never rewritten, the iPXE scripts switched to the newest last, one NBD
// export per version; and root=nbd: as LTSP and dracut write it, and the
// network a root on it hands to the booted system.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseNetbootArgs, writeNetboot } from '../../cli/netboot/netboot';
import { parseNbdRoot } from '../../src/formats/nbd-root';
import { parseNfsRoot, parseNfsrootParam } from '../../src/formats/nfs-root';
import { nfsRootOf } from '../../src/net/nfs-root';
import { handoverFiles } from '../../src/net/network-handover';

test('root=nbd:: LTSP\'s HOST:PORT[:EXPORT] and dracut\'s HOST:PORT/EXPORT; what is refused says why', () => {
  assert.equal(parseNbdRoot('nbd:10.0.2.2:10809:live'), { host: '10.0.2.2', port: 10809, name: 'live' });
  assert.equal(parseNbdRoot('nbd:server.lab:10809/v-0123456789ab'), { host: 'server.lab', port: 10809, name: 'v-0123456789ab' });
  assert.equal(parseNbdRoot('nbd:server:10809'), { host: 'server', port: 10809, name: null });
  assert.equal(parseNbdRoot('nbd:server:99999:x'), { error: '99999 is not a port (1 to 65535; nbd-server\'s is 10809)' });
  assert.equal(parseNbdRoot('nbd::10809'), { error: '(nothing) is not a host name or IPv4 address' });
  assert.equal(parseNbdRoot('nbd:server:10809:a:b'), { error: 'expected nbd:HOST:PORT, nbd:HOST:PORT:EXPORT or nbd:HOST:PORT/EXPORT' });
});

test('root=nfs: as dracut writes it and nfsroot= as the kernel does; NFSv4 only, never rw; what is refused says why', () => {
  assert.equal(parseNfsRoot('nfs:10.0.2.2:/srv/fleet'), { server: '10.0.2.2', path: '/srv/fleet', port: 2049, options: [] });
  assert.equal(parseNfsRoot('nfs4:server.lab:/srv/fleet:port=20490,vers=4.1'), { server: 'server.lab', path: '/srv/fleet', port: 20490, options: ['port=20490', 'vers=4.1'] });
  assert.equal(parseNfsrootParam('10.0.2.2:/srv/fleet,port=20490,timeo=50'), { server: '10.0.2.2', path: '/srv/fleet', port: 20490, options: ['port=20490', 'timeo=50'] });
  assert.equal(parseNfsrootParam('/srv/fleet'), { error: 'the server is missing: cowboot does not take it from DHCP, so name it, as SERVER:/PATH' });
  assert.equal(parseNfsRoot('nfs:server:srv'), { error: 'srv is not an absolute path on the server (such as /srv/fleet, without spaces, commas or colons)' });
  assert.equal(parseNfsRoot('nfs:server:/srv:vers=3'), { error: 'vers=3: cowboot mounts NFS roots over NFSv4 (vers=4, 4.0, 4.1 or 4.2), which needs neither rpcbind nor mountd' });
  assert.equal(parseNfsrootParam('server:/srv,rw'), { error: 'rw: cowboot mounts an NFS root read-only and keeps every change in RAM, above it; drop rw' });
  assert.equal(parseNfsRoot('nfs:server:/srv:port=0'), { error: 'port=0: 0 is not a port (1 to 65535; NFS\'s is 2049)' });
  assert.equal(parseNfsRoot('nfs:server:/srv:ro:x'), { error: 'expected nfs:SERVER:/PATH or nfs:SERVER:/PATH:OPTIONS (the options separated by commas)' });
  // The kernel's pair, and nfsroot= alone as dracut takes it; nfsroot= beside a root device is not the root.
  assert.equal(nfsRootOf({ root: '/dev/nfs', nfsroot: 'server:/srv' })?.param, 'nfsroot=server:/srv');
  assert.equal(nfsRootOf({ root: null, nfsroot: 'server:/srv' })?.spec.server, 'server');
  assert.is(nfsRootOf({ root: '/dev/vda', nfsroot: 'server:/srv' }), null);
  assert.throws(() => nfsRootOf({ root: '/dev/nfs', nfsroot: null }), /root=\/dev\/nfs names the root by nfsroot=, and there is none/);
});

test('a root on the network keeps its interface and its name: udev, networkd, NetworkManager and ifupdown are each told, in their own files', () => {
  const files = handoverFiles({ device: 'eth0', mac: '52:54:00:12:34:56', address: '10.0.2.15', prefix: 22, gateway: '10.0.2.2', dns: ['10.0.2.3'], how: 'dhcp' }, 'root=nbd:x:1');
  assert.equal(Object.keys(files).sort(), ['/run/NetworkManager/conf.d/90-cowboot-eth0.conf', '/run/net-eth0.conf', '/run/network/ifstate.eth0', '/run/systemd/network/10-cowboot-eth0.link', '/run/systemd/network/10-cowboot-eth0.network']);
  // By its hardware address: the booted system's udev may rename it while it is up.
  assert.match(files['/run/systemd/network/10-cowboot-eth0.link']!, '[Match]\nMACAddress=52:54:00:12:34:56\n\n[Link]\nNamePolicy=\nName=eth0\n');
  assert.match(files['/run/systemd/network/10-cowboot-eth0.network']!, '[Match]\nMACAddress=52:54:00:12:34:56\n\n[Link]\nUnmanaged=yes\n');
  assert.match(files['/run/NetworkManager/conf.d/90-cowboot-eth0.conf']!, 'unmanaged-devices=interface-name:eth0;mac:52:54:00:12:34:56');
  assert.match(files['/run/net-eth0.conf']!, "IPV4NETMASK='255.255.252.0'");
});

function folder() {
  const dir = mkdtempSync(join(tmpdir(), 'cowboot-netboot-'));
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));
  return { dir, file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('cowboot netboot: a version per folder, signed sums, the scripts switched to the newest, the older version kept and still exported', () => {
  const { dir, file, cleanup } = folder();
  try {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = file('fleet.key', privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    const kernel = file('vmlinuz-6.12', 'kernel');
    const initrd = file('initrd.cowboot', 'initrd');
    const out = join(dir, 'srv');
    const args = (image: string) => [out, '--image', image, '--initrd', initrd, '--kernel', kernel, '--url', 'http://10.0.2.2:8080/fleet', '--sign-key', key, '--nbd', '10.0.2.2:10809', '--append', 'overlay=overlayfs console=ttyS0'];
    const said: string[] = [];
    writeNetboot(parseNetbootArgs(args(file('one.squashfs', 'first image'))), (line) => said.push(line));
    const [first] = readdirSync(out).filter((f) => f.startsWith('v-'));
    assert.ok(first && /^v-[0-9a-f]{12}$/.test(first), String(first));
    const sums = readFileSync(join(out, first!, 'SHA256SUMS'));
    assert.match(sums.toString(), /^[0-9a-f]{64} {2}filesystem\.squashfs$/m);
    assert.ok(verify(null, sums, publicKey, readFileSync(join(out, first!, 'SHA256SUMS.sig'))), 'the signature does not verify the sums');
    assert.is(readFileSync(join(out, first!, 'filesystem.squashfs'), 'utf8'), 'first image');
    assert.match(readFileSync(join(out, 'boot.ipxe'), 'utf8'), `kernel http://10.0.2.2:8080/fleet/${first}/vmlinuz initrd=initrd.img root=live:http://10.0.2.2:8080/fleet/${first}/filesystem.squashfs overlay=overlayfs console=ttyS0\n`);
    assert.match(readFileSync(join(out, 'boot-nbd.ipxe'), 'utf8'), `root=nbd:10.0.2.2:10809:${first} overlay=overlayfs`);

    // The same files again: nothing new. Another image: a second folder, and the scripts point at it.
    writeNetboot(parseNetbootArgs(args(join(out, first!, 'filesystem.squashfs'))), (line) => said.push(line));
    assert.match(said.join('\n'), `${first}: these files are there already`);
    const text = writeNetboot(parseNetbootArgs(args(file('two.squashfs', 'second image'))), (line) => said.push(line));
    const versions = readdirSync(out).filter((f) => f.startsWith('v-'));
    assert.is(versions.length, 2);
    const second = versions.find((v) => v !== first)!;
    assert.match(readFileSync(join(out, 'boot.ipxe'), 'utf8'), `/fleet/${second}/filesystem.squashfs`);
    assert.is(readFileSync(join(out, first!, 'filesystem.squashfs'), 'utf8'), 'first image');
    const exports = readFileSync(join(out, 'server', 'nbd-server.conf'), 'utf8');
    assert.match(exports, `[${first}]\nexportname = ${out}/${first}/filesystem.squashfs\nreadonly = true\n`);
    assert.match(exports, `[${second}]\nexportname = ${out}/${second}/filesystem.squashfs\nreadonly = true\n`);
    assert.match(readFileSync(join(out, 'server', 'nginx.conf'), 'utf8'), `location /fleet/ {\n    alias ${out}/;\n}`);
    assert.match(readFileSync(join(out, 'server', 'dnsmasq.conf'), 'utf8'), 'dhcp-boot=tag:ipxe,http://10.0.2.2:8080/fleet/boot.ipxe');
    assert.match(text, `clients now boot ${second}`);
    assert.equal(readdirSync(out).filter((f) => f.endsWith('.tmp')), []);
  } finally {
    cleanup();
  }
});

test('cowboot netboot refuses what it cannot serve, naming the option', () => {
  const { dir, file, cleanup } = folder();
  try {
    const image = file('a.squashfs', 'x');
    const fail = (args: string[]): string => {
      try {
        parseNetbootArgs(args);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error(`accepted: ${args.join(' ')}`);
    };
    assert.match(fail([dir, '--image', image, '--initrd', image, '--kernel', image]), '--url is required');
    assert.match(fail([dir, '--image', image, '--initrd', image, '--kernel', image, '--url', 'ftp://x/']), '--url ftp://x/ is not valid');
    assert.match(fail([dir, '--image', join(dir, 'none'), '--initrd', image, '--kernel', image, '--url', 'http://x/']), `--image ${join(dir, 'none')}: no such file`);
    assert.match(fail([dir, '--image', image, '--initrd', image, '--kernel', image, '--url', 'http://x/', '--nbd', 'x']), '--nbd x is not valid: expected HOST:PORT');
    const rsa = file('rsa.key', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    assert.match(fail([dir, '--image', image, '--initrd', image, '--kernel', image, '--url', 'http://x/', '--sign-key', rsa]), 'a rsa key; expected Ed25519');
  } finally {
    cleanup();
  }
});

test.run();
