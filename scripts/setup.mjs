#!/usr/bin/env node
// Brings a fresh Debian machine to where `npm test` and `npm run demo` can
// run: Debian packages, npm packages, Debian's kernel for the VM tests, and
// two real Debian roots (systemd and sysvinit) made with mmdebstrap.
// Plain Node (no npm packages): it runs before `npm ci`.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const kernelDir = join(projectDir, '.cache', 'kernel');
const debianDir = join(projectDir, '.cache', 'debian');

// Each tool the builder and the tests use, with the package that has it.
const PACKAGES = {
  'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
  'busybox-static': '/usr/bin/busybox',
  'unionfs-fuse': '/usr/bin/unionfs',
  dmsetup: '/usr/sbin/dmsetup',
  binutils: '/usr/bin/strip',
  zstd: '/usr/bin/zstd',
  'xz-utils': '/usr/bin/xz',
  lz4: '/usr/bin/lz4',
  cpio: '/usr/bin/cpio',
  e2fsprogs: '/usr/sbin/mke2fs',
  kmod: '/usr/sbin/depmod',
  'squashfs-tools': '/usr/bin/mksquashfs',
  xorriso: '/usr/bin/xorriso',
  dosfstools: '/usr/sbin/mkfs.vfat',
  mtools: '/usr/bin/mcopy',
  'cryptsetup-bin': '/usr/sbin/veritysetup',
  fdisk: '/usr/sbin/sfdisk',
  isolinux: '/usr/lib/ISOLINUX/isolinux.bin',
  'syslinux-common': '/usr/lib/syslinux/modules/bios/ldlinux.c32',
  libatomic1: '/usr/lib/x86_64-linux-gnu/libatomic.so.1',
  mmdebstrap: '/usr/bin/mmdebstrap',
};

function say(line) {
  process.stderr.write(`setup: ${line}\n`);
}

function run(cmd, args, options = {}) {
  say(`${cmd} ${args.join(' ')}`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (status ${result.status ?? result.signal})`);
}

// A run from nothing leaves about 6 GiB under .cache (the kernel, the Debian
// roots, the VM disks and images), and apt and the builds need room on the
// way. A full disk would otherwise show as tar or mke2fs failing mid-run.
const FIRST_RUN_BYTES = 8 * 2 ** 30;

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

// Debian's generic kernel: linux-image-amd64 is a metapackage naming the real one.
function fetchKernel() {
  const info = join(kernelDir, 'kernel.json');
  if (existsSync(info)) return;
  const work = join(kernelDir, 'download');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const depends = () => execFileSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' });
  let text = depends();
  if (!/Depends: linux-image-\d/.test(text)) {
    run('apt-get', ['update']);
    text = depends();
  }
  const pkg = /Depends: (linux-image-\d\S*)/.exec(text)?.[1];
  if (!pkg) throw new Error(`cannot tell which kernel linux-image-amd64 depends on:\n${text}`);
  run('apt-get', ['download', pkg], { cwd: work });
  const deb = readdirSync(work).find((f) => f.endsWith('.deb'));
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${work}`);
  const root = join(kernelDir, 'root');
  rmSync(root, { recursive: true, force: true });
  run('dpkg-deb', ['-x', join(work, deb), root]);
  const version = readdirSync(join(root, 'lib', 'modules'))[0];
  if (!version) throw new Error(`no /lib/modules in ${deb}`);
  run('depmod', ['-b', root, version]);
  const kernel = { version, package: deb };
  writeFileSync(`${info}.tmp`, `${JSON.stringify(kernel, null, 2)}\n`);
  renameSync(`${info}.tmp`, info);
  rmSync(work, { recursive: true, force: true });
  say(`kernel ${version} in ${root}`);
}

// The roots users freeze: Debian bookworm as an installer leaves it, minimal,
// with either init. The tests add their fstab and probe when they make disks.
// The package list is in the file name, so changing it builds anew.
const DEBIAN_ROOTS = {
  systemd: ['systemd-sysv', 'udev', 'dbus', 'e2fsprogs'],
  sysvinit: ['sysvinit-core', 'udev', 'e2fsprogs'],
  // For "cowboot install": a kernel, GRUB's tools, and what the README tells
  // users to install first (the builder's tools, and libatomic1 for Node).
  bootable: [
    'systemd-sysv', 'udev', 'dbus', 'e2fsprogs', 'linux-image-amd64', 'grub-pc-bin', 'grub2-common',
    'busybox-static', 'unionfs-fuse', 'dmsetup', 'zstd', 'libatomic1', 'binutils', 'squashfs-tools',
  ],
};

function buildDebianRoots() {
  mkdirSync(debianDir, { recursive: true });
  for (const [name, packages] of Object.entries(DEBIAN_ROOTS)) {
    const tarball = join(debianDir, `bookworm-${name}-${packages.join('+')}.tar`);
    if (existsSync(tarball)) continue;
    // No mirror argument: mmdebstrap uses this machine's apt sources.
    run('mmdebstrap', ['--quiet', '--variant=minbase', '--format=tar', `--include=${packages.join(',')}`, 'bookworm', `${tarball}.tmp`]);
    renameSync(`${tarball}.tmp`, tarball);
    say(`Debian root (${name}) in ${tarball}`);
  }
}

// A second kernel for the install test's hooks: the cloud flavour of the
// same version, installed and removed with dpkg inside the bootable root.
function fetchSecondKernel() {
  const dir = join(debianDir, 'second-kernel');
  if (existsSync(dir) && readdirSync(dir).some((f) => f.endsWith('.deb'))) return;
  const pkg = /Depends: (linux-image-\d\S*)/.exec(execFileSync('apt-cache', ['depends', 'linux-image-cloud-amd64'], { encoding: 'utf8' }))?.[1];
  if (!pkg) throw new Error('cannot tell which kernel linux-image-cloud-amd64 depends on');
  const work = `${dir}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  run('apt-get', ['download', pkg], { cwd: work });
  rmSync(dir, { recursive: true, force: true });
  renameSync(work, dir);
}

try {
  checkFreeSpace();
  installDebianPackages();
  installNpmPackages();
  fetchKernel();
  buildDebianRoots();
  fetchSecondKernel();
} catch (error) {
  say(`error: ${error.message}`);
  process.exit(1);
}
