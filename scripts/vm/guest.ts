// Small root filesystems for the VMs: Debian's static busybox and an
// /sbin/init script that reports what it sees on the serial console.

import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VM_CACHE } from './project';

const BUSYBOX = '/usr/bin/busybox';

export interface GuestSpec {
  /** The /sbin/init script (a busybox sh script). */
  readonly init: string;
  /** More files for the root, by absolute path. */
  readonly files?: Readonly<Record<string, string>>;
  readonly sizeMiB?: number;
  /** The ext block size; mke2fs picks 1 KiB for small images, which a device of 4 KiB sectors (dm-verity's) cannot mount. */
  readonly blockSize?: number;
}

function populate(dir: string, spec: GuestSpec): void {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'run', 'tmp', 'etc', 'root']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'bin', 'busybox'), readFileSync(BUSYBOX));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n')) {
    if (!applet || applet === 'bin/busybox' || applet === 'sbin/init') continue;
    mkdirSync(dirname(join(dir, applet)), { recursive: true });
    symlinkSync('/bin/busybox', join(dir, applet));
  }
  writeFileSync(join(dir, 'sbin', 'init'), spec.init);
  chmodSync(join(dir, 'sbin', 'init'), 0o755);
  writeFiles(dir, spec.files ?? {});
}

/** Files by their absolute path under `dir`, with the folders they need. */
export function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** The root as a folder, for tools that take one (mksquashfs, docs/live-media.md's live-CD example). */
export function makeGuestTree(name: string, spec: GuestSpec): string {
  const tree = join(VM_CACHE, `${name}.tree`);
  mkdirSync(VM_CACHE, { recursive: true });
  populate(tree, spec);
  return tree;
}

function withTree<T>(name: string, spec: GuestSpec, make: (tree: string) => T): T {
  const tree = makeGuestTree(name, spec);
  try {
    return make(tree);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/**
 * An ext2/3/4 image made with mke2fs -d; returns its path. Inode tables and
 * journal are written at once, so a first read-write mount does not spend
 * a snapshot's COW space zeroing them.
 */
export function makeGuestDisk(name: string, spec: GuestSpec, type: 'ext2' | 'ext4' = 'ext4', uuid?: string): string {
  const image = join(VM_CACHE, `${name}.${type}`);
  return withTree(name, spec, (tree) => {
    rmSync(image, { force: true });
    const args = ['-q', '-t', type, '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-L', name.slice(0, 16), ...(uuid ? ['-U', uuid] : []), ...(spec.blockSize ? ['-b', String(spec.blockSize)] : [])];
    execFileSync('mke2fs', [...args, '-d', tree, image, `${spec.sizeMiB ?? 64}M`]);
    return image;
  });
}

export interface Partition {
  /** The filesystem (or swap) image that fills the partition. */
  readonly image: string;
  /** More sfdisk fields for its line, such as "name=x, uuid=y" or "type=82". */
  readonly fields?: string;
}

/** A disk with a partition table; each partition is one image, the first at 1 MiB. Copied with dd: a root image may be 2 GiB and more. */
export function makePartitionedDisk(name: string, label: 'gpt' | 'dos', partitions: readonly Partition[]): string {
  const disk = join(VM_CACHE, `${name}.${label}`);
  const mib = 1024 * 1024;
  const sizes = partitions.map((p) => Math.ceil(statSync(p.image).size / mib));
  // The last MiB keeps GPT's backup header clear of the last partition.
  const total = sizes.reduce((n, s) => n + s, 2) * mib;
  writeFileSync(disk, Buffer.alloc(0));
  truncateSync(disk, total);
  let at = 1;
  const starts = sizes.map((size) => {
    const start = at;
    at += size;
    return start;
  });
  const lines = partitions.map((p, i) => `start=${starts[i]! * (mib / 512)}, size=${sizes[i]! * (mib / 512)}${p.fields ? `, ${p.fields}` : ''}`);
  execFileSync('sfdisk', ['--quiet', disk], { input: `label: ${label}\n${lines.join('\n')}\n` });
  partitions.forEach((p, i) => execFileSync('dd', [`if=${p.image}`, `of=${disk}`, 'bs=1M', `seek=${starts[i]}`, 'conv=notrunc,sparse', 'status=none']));
  return disk;
}

/** A FAT filesystem image holding files (by their path on it), as a USB stick formatted by a desktop does; written with mtools, no mount. */
export function makeFatFilesystem(name: string, label: string, files: Readonly<Record<string, string>>): string {
  const image = join(VM_CACHE, `${name}.vfat`);
  rmSync(image, { force: true });
  const bytes = Object.values(files).reduce((n, source) => n + statSync(source).size, 0);
  execFileSync('mkfs.vfat', ['-C', '-n', label, image, String(Math.ceil(bytes / 1024) + 8192)], { stdio: 'ignore' });
  for (const [path, source] of Object.entries(files)) {
    const folders = path.split('/').slice(1, -1);
    folders.forEach((_, i) => spawnSync('mmd', ['-i', image, `::/${folders.slice(0, i + 1).join('/')}`], { stdio: 'ignore' }));
    execFileSync('mcopy', ['-i', image, source, `::${path}`]);
  }
  return image;
}

/** A GPT disk with one partition (at 1 MiB, named and with the given PARTUUID) holding `filesystem`. */
export function makeGptDisk(name: string, filesystem: string, partlabel: string, partuuid: string): string {
  return makePartitionedDisk(name, 'gpt', [{ image: filesystem, fields: `name=${partlabel}, uuid=${partuuid}` }]);
}

/**
 * Leaves an ext3/4 image as a power cut would: a committed transaction in
 * its journal, not yet written home, that replaces the first block of
 * `path` with `text` (as long as the file, so its size stays right).
 */
export function dirtyJournal(image: string, path: string, text: string): void {
  const bmap = execFileSync('debugfs', ['-R', `bmap ${path} 0`, image], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const block = Number(bmap.trim());
  if (!Number.isInteger(block) || block <= 0) throw new Error(`debugfs found no block for ${path} in ${image}: ${bmap}`);
  const data = `${image}.journal-block`;
  writeFileSync(data, Buffer.concat([Buffer.from(text), Buffer.alloc(4096 - Buffer.byteLength(text))]));
  execFileSync('debugfs', ['-w', '-f', '-', image], { input: `jo\njw -b ${block} ${data}\njc\n`, stdio: ['pipe', 'ignore', 'ignore'] });
  rmSync(data, { force: true });
}

export function makeSquashfs(name: string, spec: GuestSpec): string {
  const image = join(VM_CACHE, `${name}.squashfs`);
  return withTree(name, spec, (tree) => {
    rmSync(image, { force: true });
    execFileSync('mksquashfs', [tree, image, '-noappend', '-quiet', '-comp', 'gzip', '-all-root'], { stdio: ['ignore', 'ignore', 'inherit'] });
    return image;
  });
}

/** An ISO 9660 image (Rock Ridge) with the given files, by their paths on the disc. */
export function makeIso(name: string, volume: string, files: Readonly<Record<string, string>>): string {
  const staging = join(VM_CACHE, `${name}.iso-tree`);
  const iso = join(VM_CACHE, `${name}.iso`);
  rmSync(staging, { recursive: true, force: true });
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(staging, path)), { recursive: true });
    writeFileSync(join(staging, path), readFileSync(source));
  }
  rmSync(iso, { force: true });
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-r', '-V', volume, '-o', iso, staging], { stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(staging, { recursive: true, force: true });
  return iso;
}

export { sha256File } from '../../builder/file-hash';

/**
 * An init for the new root that reports, one "GUEST key=value" line each,
 * what a booted system sees, then powers off. The first line is its uptime,
 * taken before anything else runs.
 */
export const REPORTING_INIT = `#!/bin/sh
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "GUEST pid=$$ args=$*"
echo "GUEST rootfs=$(awk '$2=="/"{t=$3} END{print t}' /proc/mounts)"
if echo written > /guest-was-here 2>/dev/null && [ "$(cat /guest-was-here)" = written ]; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST rootdev=$(awk '$2=="/"{t=$1} END{print t}' /proc/mounts)"
for m in /dev /dev/pts /proc /sys /run /run/initramfs/ro /run/initramfs/cow /run/initramfs/live /run/initramfs/toram /run/initramfs/isoscan; do
  awk -v m="$m" '$2==m{f=1} END{exit !f}' /proc/mounts && echo "GUEST mounted=$m"
done
[ -s /run/initramfs/init.log ] && echo "GUEST initlog=yes"
for f in /run/sendsigs.omit.d/*; do [ -f "$f" ] && echo "GUEST omit=$(cat "$f")"; done
for p in /proc/[0-9]*; do
  case "$(tr '\0' ' ' < $p/cmdline 2>/dev/null)" in @unionfs*) echo "GUEST daemon=\${p#/proc/} $(tr '\0' ' ' < $p/cmdline)";; esac
done
echo "GUEST by-label=$(ls /dev/disk/by-label 2>/dev/null | tr '\n' ' ')"
echo "GUEST sr0-mounts=$(grep -c '^/dev/sr0 ' /proc/mounts)"
for f in /sys/block/loop*/loop/backing_file; do [ -f "$f" ] && l=\${f#/sys/block/} && echo "GUEST loop=\${l%%/*} $(cat "$f")"; done
echo "GUEST kmsg-lines=$(dmesg | grep -c 'cowboot: stage')"
echo "GUEST memavailable-kib=$(awk '/MemAvailable/{print $2}' /proc/meminfo)"
tr '\\0' '\\n' < /proc/1/environ | grep -q '^LD_AUDIT=' && echo "GUEST ld-audit=yes"
echo "GUEST done"
poweroff -f
`;
