// A root fetched over the network (root=live:URL), from Debian's nginx on
// this machine's loopback, through QEMU's user network and its DHCP server:
// checked against the SHA256SUMS beside it and the fleet key's signature of
// them, resumed when the server stops mid-download and comes back, refused
// on a wrong SHA-256 or a forged signature, and a network whose DHCP server
// never answers ends in the failure policy after its bounded wait.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeSquashfs } from '../../scripts/vm/guest';
import { netbootImage, signFile } from '../../scripts/vm/netboot-image';
import { VM_CACHE } from '../../scripts/vm/project';
import { startWebServer, type WebServer } from '../../scripts/vm/web-server';
import { USER_NET } from '../../scripts/vm/loopback-daemon';
import { eventsIn } from '../../src/core/events';
import { bootMedium } from './harness';

const INIT = `#!/bin/sh
echo "GUEST root=$(awk '$2=="/"{r=$1" "$3} END{print r}' /proc/mounts)"
echo "GUEST eth0=$(cat /sys/class/net/eth0/operstate) addresses=$(ip -4 -o address show dev eth0 | wc -l)"
echo "GUEST payload=$(sha256sum /payload | cut -c1-16)"
if echo x > /written; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST done"
poweroff -f
`;

let image = '';
let served = '';
let payloadSum = '';
let server: WebServer;
let slow: WebServer;
let secure: WebServer;
let stranger: WebServer;

test.before(async () => {
  // The image trusts the test CA only (--ca), as a fleet's own CA would be packed, and boots only what the fleet key signed.
  const built = netbootImage();
  image = built.image;
  // Incompressible, so that the image is big enough (about 24 MiB) to be caught mid-download at the slow server's rate.
  const payload = randomBytes(18 << 20).toString('base64');
  payloadSum = createHash('sha256').update(payload).digest('hex').slice(0, 16);
  const squashfs = makeSquashfs('netboot-root', { init: INIT, files: { '/payload': payload } });
  served = join(VM_CACHE, 'netboot-www');
  rmSync(served, { recursive: true, force: true });
  mkdirSync(join(served, 'live'), { recursive: true });
  renameSync(squashfs, join(served, 'live', 'filesystem.squashfs'));
  const sum = createHash('sha256').update(readFileSync(join(served, 'live', 'filesystem.squashfs'))).digest('hex');
  writeFileSync(join(served, 'live', 'SHA256SUMS'), `${sum}  filesystem.squashfs\n`);
  signFile(join(served, 'live', 'SHA256SUMS'), built.fleet);
  // The same image and sums, signed by a key the image does not carry.
  mkdirSync(join(served, 'forged'));
  linkSync(join(served, 'live', 'filesystem.squashfs'), join(served, 'forged', 'filesystem.squashfs'));
  copyFileSync(join(served, 'live', 'SHA256SUMS'), join(served, 'forged', 'SHA256SUMS'));
  signFile(join(served, 'forged', 'SHA256SUMS'), built.forger);
  // The sums and signature as made, and another image put in its place since.
  mkdirSync(join(served, 'changed'));
  renameSync(makeSquashfs('netboot-changed', { init: INIT }), join(served, 'changed', 'filesystem.squashfs'));
  for (const file of ['SHA256SUMS', 'SHA256SUMS.sig']) copyFileSync(join(served, 'live', file), join(served, 'changed', file));
  server = await startWebServer('netboot', served);
  slow = await startWebServer('netboot-slow', served, { rate: '3m' });
  secure = await startWebServer('netboot-https', served, { tls: { cert: built.ca.serverCert, key: built.ca.serverKey } });
  stranger = await startWebServer('netboot-stranger', served, { tls: { cert: built.stranger.serverCert, key: built.stranger.serverKey } });
});

test.after(async () => {
  await server?.stop();
  await slow?.stop();
  await secure?.stop();
  await stranger?.stop();
});

const table: string[] = [];
test.after(() => console.log(['', '| case | printed |', '|---|---|', ...table].join('\n')));

test('root=live:http://…: DHCP, the sums verified with the fleet key, the image fetched into RAM and checked against them, the network released before the root runs', async () => {
  const booted = await bootMedium({ name: 'netboot-http', image, medium: { devices: [], files: [] }, network: USER_NET, append: `root=live:${server.url('live/filesystem.squashfs')} overlay=overlayfs` });
  const [up] = eventsIn(booted.console, 'network-up');
  const [fetched] = eventsIn(booted.console, 'image-fetched');
  assert.ok(up && fetched, 'no network-up or image-fetched event');
  assert.is(up!.address, '10.0.2.15/24');
  assert.equal(booted.report('root'), ['overlay overlay']);
  assert.equal(booted.report('writable'), ['yes']);
  assert.equal(booted.report('payload'), [payloadSum]);
  assert.equal(booted.report('eth0'), ['down addresses=0']);
  const verified = /fetch: SHA256SUMS\.sig verifies \S+ with the key fleet/.exec(booted.console)?.[0] ?? '';
  assert.ok(verified, 'the sums were not verified with the fleet key');
  const matched = /fetch: SHA-256 \w+ matches \S+SHA256SUMS, signed by fleet/.exec(booted.console)?.[0] ?? '';
  assert.ok(matched, 'the image was not checked against the signed SHA256SUMS');
  table.push(`| HTTP, signed SHA256SUMS | DHCP in ${up!.ms} ms; ${fetched!.bytes} bytes in ${fetched!.ms} ms; "${verified}"; "${matched}" |`);
});

test('the server stopped mid-download and started again: the boot resumes where it stopped (Range) and the image checks', async () => {
  const booted = await bootMedium({
    name: 'netboot-resume',
    image,
    medium: { devices: [], files: [] },
    network: USER_NET,
    append: `root=live:${slow.url('live/filesystem.squashfs')} overlay=overlayfs`,
    dialogue: [
      {
        waitFor: /fetch: [1-9]\d*\.\d MiB of/,
        send: () => {
          void slow.stop().then(() => setTimeout(() => void slow.start(), 2500));
        },
      },
    ],
    timeoutMs: 300_000,
  });
  const [fetched] = eventsIn(booted.console, 'image-fetched');
  assert.ok(fetched && fetched.resumes >= 1, `not resumed: ${JSON.stringify(fetched)}`);
  assert.match(booted.console, /fetch: resuming at \d/);
  assert.match(booted.console, /fetch: SHA-256 \w+ matches/);
  assert.equal(booted.report('payload'), [payloadSum]);
  const broke = /fetch: (the download broke|the server closed)[^\n]*/.exec(booted.console)?.[0] ?? '';
  table.push(`| server stopped mid-download | "${broke.trim()}"; resumed ${fetched!.resumes} times |`);
});

test('https:// with the CA the image was built to trust (--ca): the certificate checks, the image boots', async () => {
  const booted = await bootMedium({ name: 'netboot-https', image, medium: { devices: [], files: [] }, network: USER_NET, append: `root=live:${secure.url('live/filesystem.squashfs')} overlay=overlayfs` });
  assert.equal(booted.report('payload'), [payloadSum]);
  const [fetched] = eventsIn(booted.console, 'image-fetched');
  assert.ok(fetched?.url.startsWith('https://'), 'not fetched over https');
  table.push(`| HTTPS, test CA packed with --ca | ${fetched!.bytes} bytes in ${fetched!.ms} ms |`);
});

test('https:// from a server whose certificate another CA signed: refused at once with the reason; rd.live.insecure boots it with a warning', async () => {
  const append = `root=live:${stranger.url('live/filesystem.squashfs')} overlay=overlayfs`;
  const refused = await bootMedium({ name: 'netboot-untrusted', image, medium: { devices: [], files: [] }, network: USER_NET, append: `${append} rd.shell=0 rd.emergency=poweroff`, finishes: false });
  const line = /fetch: \S+: the server's certificate is not trusted: [^\n]*/.exec(refused.console)?.[0]?.trim();
  assert.ok(line, 'no message saying the certificate is not trusted');
  assert.not.match(refused.console, /trying again/);
  assert.not.match(refused.console, /GUEST root=/);
  table.push(`| untrusted certificate | "${line}" |`);
  const insecure = await bootMedium({ name: 'netboot-insecure', image, medium: { devices: [], files: [] }, network: USER_NET, append: `${append} rd.live.insecure` });
  assert.equal(insecure.report('payload'), [payloadSum]);
  assert.match(insecure.console, /rd\.live\.insecure: the certificate of 10\.0\.2\.2:\d+ is not checked/);
});

test('an image replaced on the server after its sums were signed: fetched, then refused with both hashes before it is used, and the failure policy follows', async () => {
  const booted = await bootMedium({
    name: 'netboot-wrong-sha',
    image,
    medium: { devices: [], files: [] },
    network: USER_NET,
    append: `root=live:${server.url('changed/filesystem.squashfs')} rd.shell=0 rd.emergency=poweroff`,
    finishes: false,
  });
  const line = /fetch: the image from \S+ has SHA-256 [0-9a-f]{64}, and \S+SHA256SUMS, signed by fleet says [0-9a-f]{64}/.exec(booted.console)?.[0];
  assert.ok(line, 'no message naming both hashes');
  assert.is(eventsIn(booted.console, 'image-fetched').length, 1);
  assert.not.match(booted.console, /GUEST root=/);
  table.push(`| wrong SHA-256 | "${line}" |`);
});

test('sums signed by a key the image does not carry: refused before a byte of the image is fetched, naming the key, and the failure policy follows', async () => {
  const booted = await bootMedium({
    name: 'netboot-forged',
    image,
    medium: { devices: [], files: [] },
    network: USER_NET,
    append: `root=live:${server.url('forged/filesystem.squashfs')} rd.live.pubkey=fleet rd.shell=0 rd.emergency=poweroff`,
    finishes: false,
  });
  const line = /fetch: the signature \S+SHA256SUMS\.sig does not verify \S+SHA256SUMS with the key fleet/.exec(booted.console)?.[0];
  assert.ok(line, 'no message saying the signature does not verify');
  assert.is(eventsIn(booted.console, 'image-fetched').length, 0);
  assert.not.match(booted.console, /fetch: \d+\.\d MiB of/);
  assert.not.match(booted.console, /GUEST root=/);
  table.push(`| bad signature | "${line}" |`);
});

test('a DHCP server that never answers: a bounded wait (rd.net.timeout.dhcp=), then the failure policy, naming the interface', async () => {
  const booted = await bootMedium({
    name: 'netboot-no-dhcp',
    image,
    medium: { devices: [], files: [] },
    // A NIC on a hub with nothing else on it: every packet goes nowhere.
    network: ['-netdev', 'hubport,id=n0,hubid=7', '-device', 'virtio-net-pci,netdev=n0'],
    append: `root=live:${server.url('live/filesystem.squashfs')} rd.net.timeout.dhcp=6 rd.shell=0 rd.emergency=poweroff`,
    finishes: false,
  });
  const line = /no DHCP server answered on eth0 within 6 s \(rd\.net\.timeout\.dhcp=6\)/.exec(booted.console)?.[0];
  assert.ok(line, 'no message naming the interface and the wait');
  table.push(`| no DHCP answer | "${line}" |`);
});

test.run();
