#!/usr/bin/env node
// Brings a fresh Debian machine to where `npm test` and `npm run demo` can
// run: Debian packages, npm packages, Debian's kernels for the VM tests
// (trixie's and bookworm's), and real Debian roots (systemd and sysvinit, of
// each release) made with mmdebstrap.
// Plain Node (no npm packages): it runs before `npm ci`.

import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const kernelDir = join(projectDir, '.cache', 'kernel');
const debianDir = join(projectDir, '.cache', 'debian');
const serversDir = join(projectDir, '.cache', 'servers');

// Each tool the builder and the tests use, with the package that has it.
const PACKAGES = {
  'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
  // iPXE in the NICs' option ROMs, for the VMs that boot from the network alone (PXE).
  'ipxe-qemu': '/usr/lib/ipxe/qemu/efi-virtio.rom',
  'busybox-static': '/usr/bin/busybox',
  'unionfs-fuse': '/usr/bin/unionfs',
  dmsetup: '/usr/sbin/dmsetup',
  binutils: '/usr/bin/strip',
  zstd: '/usr/bin/zstd',
  'xz-utils': '/usr/bin/xz',
  lz4: '/usr/bin/lz4',
  cpio: '/usr/bin/cpio',
  e2fsprogs: '/usr/sbin/mke2fs',
  // The xfs and btrfs roots of the VM tests, made as installers make them.
  xfsprogs: '/usr/sbin/mkfs.xfs',
  'btrfs-progs': '/usr/sbin/mkfs.btrfs',
  kmod: '/usr/sbin/depmod',
  'squashfs-tools': '/usr/bin/mksquashfs',
  // icupkg trims the ICU data Node embeds (cowboot build --icu).
  'icu-devtools': '/usr/sbin/icupkg',
  // cc builds the runtime's hot-pages module and its recorder (cowboot build --hot-pages).
  gcc: '/usr/bin/gcc',
  'libc6-dev': '/usr/include/stdio.h',
  xorriso: '/usr/bin/xorriso',
  dosfstools: '/usr/sbin/mkfs.vfat',
  mtools: '/usr/bin/mcopy',
  // veritysetup for roothash=; cryptsetup and lvm packed into the image, and making the VM tests' LUKS and LVM disks.
  'cryptsetup-bin': '/usr/sbin/veritysetup',
  lvm2: '/usr/sbin/lvm',
  // mdadm packed into the image, and reading the VM tests' RAID members (which this machine, without md, cannot assemble).
  mdadm: '/usr/sbin/mdadm',
  // nbd-client packed into the image for root=nbd: (--volumes nbd).
  'nbd-client': '/usr/sbin/nbd-client',
  fdisk: '/usr/sbin/sfdisk',
  isolinux: '/usr/lib/ISOLINUX/isolinux.bin',
  'syslinux-common': '/usr/lib/syslinux/modules/bios/ldlinux.c32',
  libatomic1: '/usr/lib/x86_64-linux-gnu/libatomic.so.1',
  mmdebstrap: '/usr/bin/mmdebstrap',
  // What the test servers' binaries (unpacked, not installed: fetchServers) link against.
  libssl3: '/usr/lib/x86_64-linux-gnu/libssl.so.3',
  'libntirpc4.3': '/usr/lib/x86_64-linux-gnu/libntirpc.so.4.3',
  libwbclient0: '/usr/lib/x86_64-linux-gnu/libwbclient.so.0',
  libnfsidmap1: '/usr/lib/x86_64-linux-gnu/libnfsidmap.so.1',
  liburcu8: '/usr/lib/x86_64-linux-gnu/liburcu.so.8',
  // The network-boot tests' certificate authorities.
  openssl: '/usr/bin/openssl',
  'libpcre2-8-0': '/usr/lib/x86_64-linux-gnu/libpcre2-8.so.0',
  'libglib2.0-0': '/usr/lib/x86_64-linux-gnu/libglib-2.0.so.0',
  libgnutls30: '/usr/lib/x86_64-linux-gnu/libgnutls.so.30',
  // UEFI firmware for the VMs that boot through GRUB or systemd-boot from an ESP.
  ovmf: '/usr/share/OVMF/OVMF_CODE_4M.fd',
};

function say(line) {
  process.stderr.write(`setup: ${line}\n`);
}

function run(cmd, args, options = {}) {
  say(`${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (status ${result.status ?? result.signal})`);
}

// A run from nothing leaves about 8 GiB under .cache (the kernels, the Debian
// roots, the VM disks and images), and apt and the builds need room on the
// way. A full disk would otherwise show as tar or mke2fs failing mid-run.
const FIRST_RUN_BYTES = 10 * 2 ** 30;

function allocatedBytes(path) {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.blocks * 512;
  return readdirSync(path).reduce((sum, name) => sum + allocatedBytes(join(path, name)), stat.blocks * 512);
}

function checkFreeSpace() {
  const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  const need = FIRST_RUN_BYTES - allocatedBytes(join(projectDir, '.cache'));
  const { bavail, bsize } = statfsSync(projectDir);
  const free = bavail * bsize;
  if (free >= need) return;
  throw new Error(
    `only ${gib(free)} free on the disk that holds ${projectDir}, and this run needs about ${gib(need)} more under .cache ` +
      `(${gib(FIRST_RUN_BYTES)} from nothing); free some space, or clone the project onto a larger disk`,
  );
}

function installDebianPackages() {
  // busybox-static replaces the dynamic busybox package; check it is the static one.
  const staticBusybox = spawnSync('dpkg-query', ['-W', '-f=${Status}', 'busybox-static'], { encoding: 'utf8' }).stdout?.includes('ok installed');
  const missing = Object.entries(PACKAGES)
    .filter(([pkg, path]) => !existsSync(path) || (pkg === 'busybox-static' && !staticBusybox))
    .map(([pkg]) => pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}; install them as root with: apt-get update && apt-get install -y ${missing.join(' ')}`);
  }
  run('apt-get', ['update']);
  run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

function installNpmPackages() {
  const lock = join(projectDir, 'package-lock.json');
  const installed = join(projectDir, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lock).mtimeMs) return;
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: projectDir });
}

// Debian's packages of any release come through mmdebstrap, from the mirror
// this machine's own apt sources name: the host's sources are never changed.
// Trixie is the first target, bookworm the oldstable one.
const RELEASES = ['trixie', 'bookworm'];

function debianMirror() {
  const files = ['/etc/apt/sources.list', ...readdirSync('/etc/apt/sources.list.d').filter((f) => /\.(list|sources)$/.test(f)).map((f) => `/etc/apt/sources.list.d/${f}`)];
  for (const file of files) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    // One-line form ("deb URI suite main"), then deb822 stanzas (URIs: and Suites:).
    for (const line of text.split('\n')) {
      const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s/.exec(line);
      if (m && !m[2].includes('security') && /\/debian\/?$/.test(m[1])) return m[1];
    }
    for (const stanza of text.split(/\n\s*\n/)) {
      const uri = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.*)$/m.exec(stanza)?.[1] ?? '';
      if (uri && /^Types:.*\bdeb\b/m.test(stanza) && !suites.includes('security') && /\/debian\/?$/.test(uri)) return uri;
    }
  }
  throw new Error(`no Debian mirror in this machine's apt sources (${files.join(', ')}): mmdebstrap needs one to fetch ${RELEASES.join(' and ')}`);
}

/** The .deb files of `packages` and what they depend on, for `release`, downloaded into `dir` by mmdebstrap. */
function downloadDebs(release, packages, dir) {
  const work = `${dir}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(dirname(work), { recursive: true });
  // extract: nothing is installed or run; the downloads are kept.
  run('mmdebstrap', ['--quiet', '--variant=extract', `--include=${packages.join(',')}`, '--skip=download/empty,cleanup/apt/cache', '--format=directory', release, work, debianMirror()]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(join(work, 'var', 'cache', 'apt', 'archives'), dir);
  rmSync(work, { recursive: true, force: true });
  for (const name of readdirSync(dir)) if (!name.endsWith('.deb')) rmSync(join(dir, name), { recursive: true, force: true });
}

/** The real kernel package among the downloads: linux-image-amd64 is a metapackage naming it. */
function kernelDeb(dir, flavour) {
  const deb = readdirSync(dir).find((f) => new RegExp(`^linux-image-\\d[^_]*-${flavour}_.*\\.deb$`).test(f));
  if (!deb) throw new Error(`no linux-image-VERSION-${flavour} package among ${readdirSync(dir).join(' ')}`);
  return join(dir, deb);
}

// Each release's generic kernel, unpacked with its modules in lib/modules
// (trixie's package keeps them in usr/lib/modules) and depmod run.
function fetchKernel(release) {
  const dir = join(kernelDir, release);
  const info = join(dir, 'kernel.json');
  // Older caches lack the mirror, which the benchmark's chroots must share to get the same kernel.
  if (existsSync(info) && JSON.parse(readFileSync(info, 'utf8')).mirror) return;
  const debs = join(dir, 'debs');
  downloadDebs(release, ['linux-image-amd64'], debs);
  const deb = kernelDeb(debs, 'amd64');
  const root = join(dir, 'root');
  rmSync(root, { recursive: true, force: true });
  run('dpkg-deb', ['-x', deb, root]);
  if (existsSync(join(root, 'usr', 'lib', 'modules'))) {
    mkdirSync(join(root, 'lib'), { recursive: true });
    renameSync(join(root, 'usr', 'lib', 'modules'), join(root, 'lib', 'modules'));
  }
  const version = readdirSync(join(root, 'lib', 'modules'))[0];
  if (!version) throw new Error(`no modules in ${deb}`);
  run('depmod', ['-b', root, version]);
  const kernel = { release, version, package: deb.split('/').at(-1), mirror: debianMirror() };
  writeFileSync(`${info}.tmp`, `${JSON.stringify(kernel, null, 2)}\n`);
  renameSync(`${info}.tmp`, info);
  rmSync(debs, { recursive: true, force: true });
  say(`${release}'s kernel ${version} in ${root}`);
}

// The roots users freeze: Debian as an installer leaves it, minimal, with
// either init, for each release. The tests add their fstab and probe when
// they make disks. The package list is in the file name, so changing it
// builds anew.
const DEBIAN_ROOTS = {
  systemd: ['systemd-sysv', 'udev', 'dbus', 'e2fsprogs'],
  sysvinit: ['sysvinit-core', 'udev', 'e2fsprogs'],
  // For "cowboot install", on trixie only: a kernel, GRUB for BIOS and UEFI,
  // what the README tells users to install first (the builder's tools, and
  // libatomic1 for Node), and trixie's own Node.js to run cowboot with.
  // Trixie has no unionfs-fuse: the images made there carry no unionfs.
  bootable: [
    'systemd-sysv', 'udev', 'dbus', 'e2fsprogs', 'dosfstools', 'linux-image-amd64', 'grub-pc-bin', 'grub-efi-amd64-bin', 'grub2-common',
    'busybox-static', 'dmsetup', 'zstd', 'xz-utils', 'libatomic1', 'binutils', 'squashfs-tools', 'icu-devtools', 'nodejs',
  ],
  // The installer's other layouts, on trixie only: what it adds for LVM,
  // LUKS, RAID, btrfs and xfs, whose units (lvm2's, systemd-cryptsetup's for
  // the crypttab, mdadm's monitor) run in the booted system.
  volumes: ['systemd-sysv', 'udev', 'dbus', 'e2fsprogs', 'lvm2', 'cryptsetup', 'systemd-cryptsetup', 'mdadm', 'btrfs-progs', 'xfsprogs'],
};
const ROOTS_OF = { trixie: ['systemd', 'sysvinit', 'bootable', 'volumes'], bookworm: ['systemd', 'sysvinit'] };

function buildDebianRoots() {
  mkdirSync(debianDir, { recursive: true });
  for (const release of RELEASES) {
    for (const name of ROOTS_OF[release]) {
      const packages = DEBIAN_ROOTS[name];
      const tarball = join(debianDir, `${release}-${name}-${packages.join('+')}.tar`);
      if (existsSync(tarball)) continue;
      run('mmdebstrap', ['--quiet', '--variant=minbase', '--format=tar', `--include=${packages.join(',')}`, release, `${tarball}.tmp`, debianMirror()]);
      renameSync(`${tarball}.tmp`, tarball);
      // The tests take a root by its release and name: an older one's packages must not linger beside it.
      for (const old of readdirSync(debianDir).filter((f) => f.startsWith(`${release}-${name}-`) && f.endsWith('.tar') && join(debianDir, f) !== tarball)) rmSync(join(debianDir, old));
      say(`Debian ${release} root (${name}) in ${tarball}`);
    }
  }
}

// Packages the install tests put into the bootable root with dpkg, as a user
// would with apt: a second kernel (trixie's cloud flavour) installed and
// removed through the hooks; systemd-boot; and shim and the signed GRUB for
// Secure Boot (with what they need that the root lacks).
const TEST_DEBS = {
  'second-kernel': { packages: ['linux-image-cloud-amd64'], keep: /^linux-image-\d[^_]*-cloud-amd64_/ },
  'systemd-boot': { packages: ['systemd-boot'], keep: /^systemd-boot/ },
  'secure-boot': { packages: ['shim-signed', 'grub-efi-amd64-signed'], keep: /^(shim-|grub-efi-amd64-signed_|mokutil_|libefiboot1|libefivar1|libkeyutils1_|openssl_|openssl-provider-legacy_)/ },
};

function fetchTestDebs() {
  for (const [name, { packages, keep }] of Object.entries(TEST_DEBS)) {
    const dir = join(debianDir, name);
    if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.deb'))) continue;
    const debs = `${dir}.debs`;
    downloadDebs('trixie', packages, debs);
    const kept = readdirSync(debs).filter((f) => keep.test(f));
    if (kept.length === 0) throw new Error(`no package matching ${keep} among ${readdirSync(debs).join(' ')}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const deb of kept) renameSync(join(debs, deb), join(dir, deb));
    rmSync(debs, { recursive: true, force: true });
  }
}

// The servers the network-boot tests start on loopback addresses: this
// machine's release of Debian's own, unpacked from the packages rather than
// installed, so that no service of theirs starts here (nginx's package
// would serve port 80 on every address). NFS is nfs-ganesha's: this
// machine's kernel has no NFS server to start.
const SERVERS = {
  nginx: { binary: 'usr/sbin/nginx', packages: ['nginx'] },
  'nfs-ganesha': { binary: 'usr/bin/ganesha.nfsd', packages: ['nfs-ganesha', 'nfs-ganesha-vfs'] },
};

// nbd-server is trixie's (3.26), the release a fleet's server runs first:
// bookworm's (3.24) stops serving every export once SIGHUP has added one,
// which the fleet test found. Unpacked with what it links against (nothing
// is run), it starts through that folder's own dynamic loader.
function fetchTrixieNbdServer() {
  const dir = join(serversDir, 'nbd-server-trixie');
  if (existsSync(join(dir, 'usr', 'bin', 'nbd-server'))) return;
  rmSync(`${dir}.tmp`, { recursive: true, force: true });
  mkdirSync(serversDir, { recursive: true });
  run('mmdebstrap', ['--quiet', '--variant=extract', '--include=nbd-server', '--format=directory', 'trixie', `${dir}.tmp`, debianMirror()]);
  rmSync(dir, { recursive: true, force: true });
  renameSync(`${dir}.tmp`, dir);
  say(`trixie's nbd-server unpacked in ${dir}`);
}

function fetchServers() {
  for (const [name, { binary, packages }] of Object.entries(SERVERS)) {
    const dir = join(serversDir, name);
    if (existsSync(join(dir, binary))) continue;
    const debs = `${dir}.debs`;
    rmSync(debs, { recursive: true, force: true });
    mkdirSync(debs, { recursive: true });
    try {
      run('apt-get', ['download', ...packages], { cwd: debs });
    } catch {
      // A fresh machine may have no package lists yet.
      run('apt-get', ['update']);
      run('apt-get', ['download', ...packages], { cwd: debs });
    }
    rmSync(dir, { recursive: true, force: true });
    for (const pkg of packages) {
      const deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
      if (!deb) throw new Error(`apt-get download ${pkg} left no ${pkg}_*.deb in ${debs}`);
      run('dpkg-deb', ['-x', join(debs, deb), dir]);
    }
    rmSync(debs, { recursive: true, force: true });
    say(`${name} unpacked in ${dir}`);
  }
}

try {
  checkFreeSpace();
  installDebianPackages();
  installNpmPackages();
  for (const release of RELEASES) fetchKernel(release);
  buildDebianRoots();
  fetchTestDebs();
  fetchServers();
  fetchTrixieNbdServer();
} catch (error) {
  say(`error: ${error.message}`);
  process.exit(1);
}
