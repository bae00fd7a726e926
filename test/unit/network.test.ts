// A root fetched over the network: ip= as the kernel and dracut write it,
// udhcpc's lease as our script prints it, and the download through the fake
// system: resumed with Range where the server broke off, started over where
// it cannot resume, given up after its tries, refused when RAM is short,
// and checked against SHA256SUMS or rd.live.sha256=.

import { createHash, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContext } from '../../src/boot';
import { configFromCmdline, describeProblem, mergeConfig } from '../../src/config';
import { parseCmdline } from '../../src/formats/cmdline';
import { parseIpParam } from '../../src/formats/ip-param';
import { parseLease } from '../../src/net/dhcp';
import { FETCH_ATTEMPTS, fetchImage, progressLine } from '../../src/net/fetch-image';
import { fetchLiveImage, liveUrlOf } from '../../src/net/live-image';
import { mountNfs, nfsRootOf } from '../../src/net/nfs-root';
import type { Services } from '../../src/kmod/services';
import type { HttpResponse } from '../../src/sys/system';
import { fakeSystem } from './fake-system';

test('ip=: the kernel\'s fields, dracut\'s INTERFACE:METHOD, and what is refused says why', () => {
  assert.equal(parseIpParam('dhcp'), { kind: 'dhcp', device: null });
  assert.equal(parseIpParam('off'), { kind: 'off' });
  assert.equal(parseIpParam('enp1s0:dhcp'), { kind: 'dhcp', device: 'enp1s0' });
  assert.equal(parseIpParam(':::::eth1:dhcp'), { kind: 'dhcp', device: 'eth1' });
  assert.equal(parseIpParam('192.168.1.20::192.168.1.1:255.255.255.0:kiosk:eth0:none:192.168.1.1'), {
    kind: 'static', address: '192.168.1.20', prefix: 24, gateway: '192.168.1.1', hostname: 'kiosk', device: 'eth0', dns: ['192.168.1.1'],
  });
  assert.equal(parseIpParam('10.1.2.3::10.1.0.1:255.255.0.0'), { kind: 'static', address: '10.1.2.3', prefix: 16, gateway: '10.1.0.1', hostname: null, device: null, dns: [] });
  assert.equal(parseIpParam('dhcp6'), { error: 'dhcp6 is not done here: only IPv4, by DHCP or static' });
  assert.equal(parseIpParam('10.1.2.3::10.1.0.1:255.0.255.0'), { error: '255.0.255.0 is not a netmask such as 255.255.255.0' });
  assert.equal(parseIpParam('10.1.2.3::10.1.0.1'), { error: 'the static address 10.1.2.3 needs its netmask (the fourth field), such as 255.255.255.0' });
  assert.equal(parseIpParam('10.1.2.300::::::none'), { error: '10.1.2.300 is not an IPv4 address' });
  const problems = configFromCmdline(parseCmdline('ip=10.1.2.3::x:255.255.255.0 fetch=ftp://host/a.squashfs root=live:http://host/')).problems.map(describeProblem);
  assert.equal(problems.length, 3, problems.join('\n'));
  assert.match(problems[0]!, 'root=live:http://host/ is not valid');
  assert.match(problems.join('\n'), 'fetch=ftp://host/a.squashfs is not valid: expected an http:// or https:// URL');
  assert.match(problems.join('\n'), 'ip=10.1.2.3::x:255.255.255.0 is not valid');
});

test('root=live:URL (dracut) and fetch=URL (live-boot) name the same image', () => {
  const of = (cmdline: string) => liveUrlOf(mergeConfig(configFromCmdline(parseCmdline(cmdline)).values));
  assert.is(of('root=live:http://server/live/filesystem.squashfs'), 'http://server/live/filesystem.squashfs');
  assert.is(of('fetch=https://server/a.squashfs'), 'https://server/a.squashfs');
  assert.is(of('root=/dev/sda1'), null);
});

test('udhcpc\'s lease as our script prints it: several routers and DNS servers, the subnet as a prefix', () => {
  const lease = parseLease('lease ip=10.0.2.15\nlease subnet=255.255.255.0\nlease router=10.0.2.2 10.0.2.1\nlease dns=10.0.2.3 1.1.1.1\nlease domain=lab\nlease lease=86400\n');
  assert.equal(lease, { address: '10.0.2.15', prefix: 24, routers: ['10.0.2.2', '10.0.2.1'], dns: ['10.0.2.3', '1.1.1.1'], domain: 'lab', seconds: 86400 });
  assert.is(parseLease('udhcpc: no lease, failing\n'), null);
});

const URL = 'http://10.0.2.2:8080/live/filesystem.squashfs';
const IMAGE = Buffer.from(Array.from({ length: 3 << 20 }, (_, i) => (i * 7) & 0xff));
const SHA = createHash('sha256').update(IMAGE).digest('hex');

async function* pieces(bytes: Uint8Array, breakAt: number | null): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += 64 << 10) {
    if (breakAt !== null && at >= breakAt) throw new Error('socket hang up');
    yield bytes.subarray(at, Math.min(bytes.length, at + (64 << 10)));
  }
}

/** A server of `image` that honours Range (unless told not to) and breaks off at the bytes given, one break per request. */
function server(image: Uint8Array, breaks: (number | null)[], { ranges = true } = {}) {
  return (request: { headers?: Readonly<Record<string, string>> }): HttpResponse => {
    const start = ranges ? Number(/bytes=(\d+)-/.exec(request.headers?.range ?? '')?.[1] ?? 0) : 0;
    const body = image.subarray(start);
    const headers: Record<string, string> = start > 0 ? { 'content-range': `bytes ${start}-${image.length - 1}/${image.length}`, 'content-length': String(body.length) } : { 'content-length': String(image.length) };
    const breakAt = breaks.shift() ?? null;
    return { status: start > 0 ? 206 : 200, headers, body: pieces(body, breakAt === null ? null : breakAt - start) };
  };
}

function fetchContext(cmdline = '', available = 900_000, files: Record<string, string> = {}) {
  const sys = fakeSystem({ '/proc/meminfo': `MemTotal: 1000000 kB\nMemAvailable: ${available} kB\n`, '/sys/class/net/lo/type': '772\n', '/sys/class/net/eth0/type': '1\n', '/sys/class/net/eth0/address': '52:54:00:12:34:56\n', ...files });
  const ctx = createContext(sys, [], {});
  ctx.config = mergeConfig(configFromCmdline(parseCmdline(cmdline)).values);
  return { sys, ctx };
}

test('a server that breaks off mid-download: resumed where it stopped with Range, after a backoff, and the hash is of the whole', async () => {
  const { sys, ctx } = fetchContext();
  sys.servers.set(URL, server(IMAGE, [1 << 20, 2 << 20]));
  const fetched = await fetchImage(ctx, URL, '/run/initramfs/toram/filesystem.squashfs');
  assert.is(fetched.sha256, SHA);
  assert.is(fetched.resumes, 2);
  assert.equal(sys.calls.filter((c) => c.startsWith('get ')), [`get ${URL}`, `get ${URL} (bytes=1048576-)`, `get ${URL} (bytes=2097152-)`]);
  assert.ok(Buffer.from(sys.files.get('/run/initramfs/toram/filesystem.squashfs')!.kind === 'file' ? (sys.files.get('/run/initramfs/toram/filesystem.squashfs') as { text: string }).text : '', 'latin1').equals(IMAGE));
  assert.match(sys.console.join(''), 'fetch: the download broke at 1.0 MiB: socket hang up; trying again in 1 s');
});

test('a server that cannot resume: fetched again from the start, said so', async () => {
  const { sys, ctx } = fetchContext();
  sys.servers.set(URL, server(IMAGE, [1 << 20], { ranges: false }));
  const fetched = await fetchImage(ctx, URL, '/run/initramfs/toram/x');
  assert.is(fetched.sha256, SHA);
  assert.match(sys.console.join(''), 'the server cannot resume (no Range support), so the image is fetched again from the start');
});

test('a server that is gone: given up after its tries, with the URL, the last error and how far it got', async () => {
  const { sys, ctx } = fetchContext();
  try {
    await fetchImage(ctx, URL, '/run/initramfs/toram/x');
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, `fetch: ${URL}: connect ECONNREFUSED 10.0.2.2:8080; gave up after ${FETCH_ATTEMPTS} tries in a row with no progress, at 0.0 MiB`);
  }
  assert.is(sys.calls.filter((c) => c.startsWith('get ')).length, FETCH_ATTEMPTS);
});

test('a certificate that is not trusted ends the fetch at once (asking again cannot change it), naming the reason and --ca', async () => {
  const { sys, ctx } = fetchContext();
  const url = 'https://10.0.2.2:8443/live/filesystem.squashfs';
  sys.servers.set(url, () => {
    throw Object.assign(new Error('self-signed certificate in certificate chain; if the root CA is installed locally, try running Node.js with --use-system-ca'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });
  try {
    await fetchImage(ctx, url, '/run/initramfs/toram/x', { ca: '-----BEGIN CERTIFICATE-----', insecure: false });
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, `fetch: ${url}: the server's certificate is not trusted: self-signed certificate in certificate chain`);
    assert.match(String((error as { detail?: { hint?: string } }).detail?.hint), 'build it with --ca');
  }
  assert.is(sys.calls.filter((c) => c.startsWith('get ')).length, 1);
});

test('an image larger than RAM allows is refused before its first byte is kept, naming both sizes', async () => {
  const { sys, ctx } = fetchContext('', 2000);
  sys.servers.set(URL, server(IMAGE, []));
  try {
    await fetchImage(ctx, URL, '/run/initramfs/toram/x');
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, `${URL} is 3M, and RAM has 2.0 MiB free of 976.6 MiB`);
  }
});

test('the whole fetch: DHCP, SHA256SUMS beside the image, the network released; a wrong hash fails the boot with both hashes', async () => {
  const { sys, ctx } = fetchContext(`root=live:${URL}`);
  sys.results.set('udhcpc -i eth0 -f -q -n -t 15 -T 2 -A 1 -s /lib/cowboot/udhcpc-lease', { stdout: 'lease ip=10.0.2.15\nlease subnet=255.255.255.0\nlease router=10.0.2.2\nlease dns=10.0.2.3\n' });
  sys.servers.set(URL, server(IMAGE, []));
  const sums = (text: string) => () => ({ status: 200, headers: {}, body: pieces(Buffer.from(text), null) });
  sys.servers.set('http://10.0.2.2:8080/live/SHA256SUMS', sums(`${SHA}  filesystem.squashfs\n`));
  assert.is(await fetchLiveImage(ctx, URL), '/run/initramfs/toram/filesystem.squashfs');
  const runs = sys.calls.filter((c) => c.startsWith('run ip '));
  assert.equal(runs, ['run ip link set dev eth0 up', 'run ip address add 10.0.2.15/24 dev eth0', 'run ip route add default via 10.0.2.2 dev eth0', 'run ip address flush dev eth0', 'run ip link set dev eth0 down']);
  assert.match(ctx.log.text(), `fetch: SHA-256 ${SHA} matches http://10.0.2.2:8080/live/SHA256SUMS`);

  const wrong = '0'.repeat(64);
  sys.servers.set('http://10.0.2.2:8080/live/SHA256SUMS', sums(`${wrong}  filesystem.squashfs\n`));
  try {
    await fetchLiveImage(ctx, URL);
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, `fetch: the image from ${URL} has SHA-256 ${SHA}, and http://10.0.2.2:8080/live/SHA256SUMS says ${wrong}`);
  }
});

const SUMS_URL = 'http://10.0.2.2:8080/live/SHA256SUMS';
const served = (bytes: Uint8Array) => () => ({ status: 200, headers: {}, body: pieces(bytes, null) });
const pemOf = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();

test('an image that carries a key boots only sums its key signed: a good signature, a forged one, none, and a key it does not carry', async () => {
  const fleet = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const keyed = (cmdline = '') => {
    const made = fetchContext(`root=live:${URL} ${cmdline}`, 900_000, { '/etc/cowboot/keys/fleet.pem': pemOf(fleet.publicKey), '/etc/cowboot/keys/spare.pem': pemOf(other.publicKey) });
    made.sys.results.set('udhcpc -i eth0 -f -q -n -t 15 -T 2 -A 1 -s /lib/cowboot/udhcpc-lease', { stdout: 'lease ip=10.0.2.15\nlease subnet=255.255.255.0\n' });
    made.sys.servers.set(URL, server(IMAGE, []));
    return made;
  };
  const failure = async (ctx: ReturnType<typeof keyed>['ctx']) => {
    try {
      await fetchLiveImage(ctx, URL);
    } catch (error) {
      return (error as Error).message;
    }
    return assert.unreachable('the fetch did not fail');
  };
  const sums = Buffer.from(`${SHA}  filesystem.squashfs\n`);

  const good = keyed('rd.live.pubkey=fleet');
  good.sys.servers.set(SUMS_URL, served(sums));
  good.sys.servers.set(`${SUMS_URL}.sig`, served(Buffer.from(`${sign(null, sums, fleet.privateKey).toString('base64')}\n`)));
  assert.is(await fetchLiveImage(good.ctx, URL), '/run/initramfs/toram/filesystem.squashfs');
  assert.match(good.ctx.log.text(), `fetch: SHA256SUMS.sig verifies ${SUMS_URL} with the key fleet`);
  assert.match(good.ctx.log.text(), `fetch: SHA-256 ${SHA} matches ${SUMS_URL}, signed by fleet`);

  // Signed by a key the image carries, but not the one rd.live.pubkey= names.
  const spare = keyed('rd.live.pubkey=fleet');
  spare.sys.servers.set(SUMS_URL, served(sums));
  spare.sys.servers.set(`${SUMS_URL}.sig`, served(sign(null, sums, other.privateKey)));
  assert.is(await failure(spare.ctx), `fetch: the signature ${SUMS_URL}.sig does not verify ${SUMS_URL} with the key fleet`);

  // Without rd.live.pubkey=, any packed key; the sums changed after signing are refused by all.
  const forged = keyed();
  forged.sys.servers.set(SUMS_URL, served(Buffer.from(`${'0'.repeat(64)}  filesystem.squashfs\n`)));
  forged.sys.servers.set(`${SUMS_URL}.sig`, served(sign(null, sums, fleet.privateKey)));
  assert.is(await failure(forged.ctx), `fetch: the signature ${SUMS_URL}.sig does not verify ${SUMS_URL} with the keys fleet, spare`);

  const unsigned = keyed();
  unsigned.sys.servers.set(SUMS_URL, served(sums));
  unsigned.sys.servers.set(`${SUMS_URL}.sig`, () => ({ status: 404, headers: {}, body: pieces(Buffer.from('not found'), null) }));
  assert.is(await failure(unsigned.ctx), `fetch: ${SUMS_URL}.sig: the server has none, and this image boots only what its key signed`);

  assert.is(await failure(keyed('rd.live.pubkey=lab').ctx), 'rd.live.pubkey=lab: the image carries no such key (it has fleet, spare)');
  // rd.live.sha256= cannot stand in for the signature, and must agree with the signed sums.
  const pinned = keyed(`rd.live.sha256=${'1'.repeat(64)}`);
  pinned.sys.servers.set(SUMS_URL, served(sums));
  pinned.sys.servers.set(`${SUMS_URL}.sig`, served(sign(null, sums, fleet.privateKey)));
  assert.is(await failure(pinned.ctx), `fetch: rd.live.sha256= says ${'1'.repeat(64)}, and ${SUMS_URL}, signed by fleet says ${SHA} for filesystem.squashfs`);
});

test('no DHCP answer: a bounded wait, then the failure names the interface and the time', async () => {
  const { sys, ctx } = fetchContext(`root=live:${URL} rd.net.timeout.dhcp=4`);
  sys.results.set('udhcpc -i eth0 -f -q -n -t 2 -T 2 -A 1 -s /lib/cowboot/udhcpc-lease', { status: 1, stderr: 'udhcpc: no lease, failing' });
  try {
    await fetchLiveImage(ctx, URL);
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, 'no DHCP server answered on eth0 within 4 s (rd.net.timeout.dhcp=4)');
  }
});

test('an NFS server that does not answer: tried each second until rootdelay= runs out, then the failure names it; none of the mount is tried', async () => {
  const { sys, ctx } = fetchContext('root=nfs:10.0.2.2:/srv/fleet:port=20490 rootdelay=3 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:none');
  const nfs = nfsRootOf(ctx.config)!;
  // The loader is never reached: the server is looked for first.
  const services = {} as Services;
  try {
    await mountNfs(ctx, services, nfs.spec, nfs.param);
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, 'root=nfs:10.0.2.2:/srv/fleet:port=20490: the NFS server 10.0.2.2 port 20490 was not reached within 3 s (3 tries; last: connect ECONNREFUSED 10.0.2.2:20490)');
  }
  assert.equal(sys.calls.filter((c) => c.startsWith('connect ')).length, 3);
  assert.not.match(sys.calls.join('\n'), /mount/);
});

test('an NFS server that answers: the export mounted read-only over NFSv4 at the address reached, the network kept for the booted system', async () => {
  const { sys, ctx } = fetchContext('nfsroot=server.lab:/srv/fleet,port=20490 ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:none');
  sys.listening.set('server.lab:20490', '10.0.2.2');
  const loaded: string[] = [];
  const services = { loader: { load: async (modules: readonly string[]) => (loaded.push(...modules), modules.map((module) => ({ module, ok: true, ms: 1 }))) } } as unknown as Services;
  const nfs = nfsRootOf(ctx.config)!;
  await mountNfs(ctx, services, nfs.spec, nfs.param);
  assert.equal(loaded, ['nfsv4']);
  assert.ok(sys.calls.includes('run mount -t nfs4 -o ro,addr=10.0.2.2,port=20490 10.0.2.2:/srv/fleet /run/initramfs/ro'), sys.calls.join('\n'));
  assert.match(ctx.log.text(), /nfs: server.lab:\/srv\/fleet mounted read-only from 10.0.2.2 in \d+ ms/);
  assert.ok(sys.files.has('/run/systemd/network/10-cowboot-eth0.network'));
});

test('the progress line: bytes, rate, time left', () => {
  assert.is(progressLine(12 << 20, 48 << 20, 2000), 'fetch: 12.0 MiB of 48.0 MiB (25%), 6.0 MiB/s, 6 s left');
  assert.is(progressLine(12 << 20, null, 2000), 'fetch: 12.0 MiB, 6.0 MiB/s');
});

test.run();
