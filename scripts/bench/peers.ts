// The peers' initramfs images, for the benchmark: Debian's dracut with its
// dmsquash-live module (with systemd in the initrd, and without), and
// Debian's live-boot on initramfs-tools; for the network boot, dracut with
// livenet and live-boot with what fetch= needs. Each is built inside an mmdebstrap
// chroot from Debian's packages, never on the host, for the test kernel's
// version, and cached under .cache/bench/peers with how long its own build
// command took.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type DebianRelease, testKernel } from '../vm/kernel';
import { PROJECT_DIR } from '../vm/project';

export type Peer = 'dracut-shell' | 'dracut-systemd' | 'live-boot' | 'dracut-livenet' | 'live-boot-fetch';
/** What each peer boots in the benchmark: the live CD, or the image over the network. */
export const PEER_GROUPS: Readonly<Record<Peer, 'live CD' | 'network'>> = {
  'dracut-shell': 'live CD',
  'dracut-systemd': 'live CD',
  'live-boot': 'live CD',
  'dracut-livenet': 'network',
  'live-boot-fetch': 'network',
};
export const PEERS = Object.keys(PEER_GROUPS) as Peer[];

export interface PeerImage {
  readonly peer: Peer;
  readonly image: string;
  /** Seconds its build command (dracut, update-initramfs) took in the chroot. */
  readonly buildSeconds: number;
  /** The packages' versions, as dpkg knows them in the chroot. */
  readonly versions: string;
  /** The kernel it was built for: a new test kernel builds the peers anew. */
  readonly kernel: string;
}

const DIR = join(PROJECT_DIR, '.cache', 'bench', 'peers');

/**
 * The release the benchmark boots, for every tool alike: the peers are built
 * in its chroots, for its kernel. Bookworm's, where the figures in docs/benchmarks.md
 * were measured.
 */
export const BENCH_RELEASE: DebianRelease = 'bookworm';
const benchKernel = () => testKernel(BENCH_RELEASE);

// dracut leaves systemd out of the initrd when these modules are omitted: its
// shell-script init (dracut's "no systemd" mode) runs instead.
const NO_SYSTEMD = 'systemd systemd-initrd systemd-udevd systemd-journald systemd-sysusers systemd-tmpfiles dracut-systemd systemd-ask-password';

/** A command in the chroot, timed: its seconds go to /tmp/NAME.seconds. */
function timed(name: string, command: string): string {
  return `chroot "$1" sh -c 'start=$(date +%s.%N); ${command} >/tmp/${name}.build-log 2>&1 || { cat /tmp/${name}.build-log; exit 1; }; end=$(date +%s.%N); echo "$end - $start" | bc > /tmp/${name}.seconds'`;
}

interface Recipe {
  readonly packages: readonly string[];
  /** name: the command that writes /tmp/NAME.img in the chroot. */
  readonly builds: Readonly<Partial<Record<Peer, string>>>;
  readonly versionsOf: readonly string[];
}

const RECIPES: readonly Recipe[] = [
  {
    packages: ['linux-image-amd64', 'dracut', 'dracut-live', 'systemd-sysv', 'udev', 'bc', 'zstd'],
    builds: {
      'dracut-systemd': 'dracut --no-hostonly --force --kver "$(ls /lib/modules)" -a dmsquash-live /tmp/dracut-systemd.img',
      'dracut-shell': `dracut --no-hostonly --force --kver "$(ls /lib/modules)" -a dmsquash-live -o "${NO_SYSTEMD}" /tmp/dracut-shell.img`,
    },
    versionsOf: ['dracut', 'dracut-live', 'systemd'],
  },
  {
    packages: ['linux-image-amd64', 'initramfs-tools', 'live-boot', 'bc', 'zstd'],
    builds: { 'live-boot': 'update-initramfs -c -k "$(ls /lib/modules)" -b /tmp && mv /tmp/initrd.img-* /tmp/live-boot.img' },
    versionsOf: ['live-boot', 'initramfs-tools'],
  },
  // root=live:http:// (livenet): the network by dracut's network-legacy
  // module, which runs dhclient, and the download by curl; without systemd,
  // as dracut-shell. dbus: with dracut-network, the kernel package's own
  // initrd picks systemd-networkd, which needs it. ifcfg: Debian's
  // dracut-network adds it, and it cannot be installed without
  // systemd-networkd. procps: network-legacy's scripts run pgrep.
  {
    packages: ['linux-image-amd64', 'dracut', 'dracut-live', 'dracut-network', 'isc-dhcp-client', 'curl', 'dbus', 'procps', 'systemd-sysv', 'udev', 'bc', 'zstd'],
    builds: { 'dracut-livenet': `dracut --no-hostonly --force --kver "$(ls /lib/modules)" -a "dmsquash-live livenet network-legacy" -o "${NO_SYSTEMD} systemd-networkd ifcfg" /tmp/dracut-livenet.img` },
    versionsOf: ['dracut', 'dracut-live', 'dracut-network'],
  },
  // fetch=: live-boot brings the network up with klibc's ipconfig and downloads with wget, which its hook copies in.
  {
    packages: ['linux-image-amd64', 'initramfs-tools', 'live-boot', 'busybox', 'wget', 'bc', 'zstd'],
    builds: { 'live-boot-fetch': 'update-initramfs -c -k "$(ls /lib/modules)" -b /tmp && mv /tmp/initrd.img-* /tmp/live-boot-fetch.img' },
    versionsOf: ['live-boot', 'initramfs-tools', 'busybox', 'wget'],
  },
];

function imagePath(peer: Peer): string {
  return join(DIR, `${peer}.img`);
}

function build(recipe: Recipe): void {
  const names = Object.keys(recipe.builds) as Peer[];
  const work = join(DIR, `build-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const hooks = [
    // The chroot's kernel must be the one the benchmark boots: from the same mirror, without the security suite's newer one.
    `--customize-hook=test "$(ls "$1"/lib/modules)" = "${benchKernel().version}" || { echo "the chroot has Linux $(ls "$1"/lib/modules), the test kernel is ${benchKernel().version}: run scripts/setup.mjs again"; exit 1; }`,
    ...names.map((name) => `--customize-hook=${timed(name, recipe.builds[name]!)}`),
    `--customize-hook=chroot "$1" dpkg-query -W ${recipe.versionsOf.join(' ')} > "$1/tmp/versions"`,
    `--customize-hook=copy-out ${names.flatMap((n) => [`/tmp/${n}.img`, `/tmp/${n}.seconds`]).join(' ')} /tmp/versions ${work}`,
  ];
  process.stderr.write(`bench: building ${names.join(', ')} in an mmdebstrap chroot (${recipe.packages.join(', ')})\n`);
  execFileSync('mmdebstrap', ['--quiet', '--variant=minbase', '--format=null', `--include=${recipe.packages.join(',')}`, ...hooks, BENCH_RELEASE, '/dev/null', benchKernel().mirror], { stdio: 'inherit' });
  const versions = readFileSync(join(work, 'versions'), 'utf8').trim().replace(/\s+/g, ' ');
  for (const name of names) {
    renameSync(join(work, `${name}.img`), imagePath(name));
    const info: Omit<PeerImage, 'image'> = { peer: name, buildSeconds: Number(readFileSync(join(work, `${name}.seconds`), 'utf8')), versions, kernel: benchKernel().version };
    writeFileSync(join(DIR, `${name}.json`), `${JSON.stringify(info)}\n`);
  }
  rmSync(work, { recursive: true, force: true });
}

function current(peer: Peer): boolean {
  try {
    return existsSync(imagePath(peer)) && (JSON.parse(readFileSync(join(DIR, `${peer}.json`), 'utf8')) as PeerImage).kernel === benchKernel().version;
  } catch {
    return false;
  }
}

/** The peers' images (those `wanted`), built once and then taken from the cache (for this kernel). */
export function peerImages(wanted: readonly Peer[] = PEERS): PeerImage[] {
  mkdirSync(DIR, { recursive: true });
  for (const recipe of RECIPES) {
    if ((Object.keys(recipe.builds) as Peer[]).some((p) => wanted.includes(p) && !current(p))) build(recipe);
  }
  return wanted.map((peer) => {
    const info = JSON.parse(readFileSync(join(DIR, `${peer}.json`), 'utf8')) as Omit<PeerImage, 'image'>;
    if (statSync(imagePath(peer)).size === 0) throw new Error(`${imagePath(peer)} is empty`);
    return { ...info, image: imagePath(peer) };
  });
}
