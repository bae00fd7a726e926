// xfs and btrfs roots for the VMs, made as an installer makes them: with
// the filesystem's own mkfs, mounted on this machine (loop) and filled, with
// btrfs subvolumes where asked. A crash is made the same way: a file written
// and fsync'd on the mounted filesystem, and the image copied before it is
// unmounted, as a power cut would leave it.

import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type GuestSpec, makeGuestTree, writeFiles } from './guest';
import { VM_CACHE } from './project';

export type HostFsType = 'xfs' | 'btrfs';

export interface HostFsOptions {
  readonly type: HostFsType;
  readonly uuid: string;
  /** btrfs subvolumes, by name: the root's tree goes in the first, and each other holds what `contents` gives it. */
  readonly subvolumes?: readonly string[];
  readonly contents?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** The image's size (sparse): the smallest each mkfs makes unless told. */
  readonly sizeMiB?: number;
}

// xfsprogs makes no xfs under 300 MiB; both are sparse, so only what is written takes room.
const SIZE_MIB: Record<HostFsType, number> = { xfs: 320, btrfs: 256 };

function mkfs(image: string, name: string, { type, uuid, sizeMiB }: HostFsOptions): void {
  rmSync(image, { force: true });
  writeFileSync(image, '');
  truncateSync(image, (sizeMiB ?? SIZE_MIB[type]) * 2 ** 20);
  const label = name.slice(0, type === 'xfs' ? 12 : 32);
  if (type === 'xfs') execFileSync('mkfs.xfs', ['-q', '-L', label, '-m', `uuid=${uuid}`, image]);
  else execFileSync('mkfs.btrfs', ['-q', '-L', label, '-U', uuid, image]);
}

/** Runs `use` with `image` mounted on a fresh folder, and unmounts it after. */
function mounted<T>(image: string, use: (dir: string) => T): T {
  const dir = mkdtempSync(join(VM_CACHE, 'mnt-'));
  execFileSync('mount', ['-o', 'loop', image, dir]);
  try {
    return use(dir);
  } finally {
    spawnSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** An xfs or btrfs image holding the folder `tree` (in its first subvolume, if any); returns its path. */
export function hostFsOfTree(name: string, tree: string, options: HostFsOptions): string {
  const image = join(VM_CACHE, `${name}.${options.type}`);
  mkfs(image, name, options);
  mounted(image, (dir) => {
    const [rootSubvolume, ...others] = options.subvolumes ?? [];
    for (const subvolume of options.subvolumes ?? []) execFileSync('btrfs', ['-q', 'subvolume', 'create', join(dir, subvolume)]);
    execFileSync('cp', ['-a', `${tree}/.`, rootSubvolume ? join(dir, rootSubvolume) : dir]);
    for (const subvolume of others) writeFiles(join(dir, subvolume), options.contents?.[subvolume] ?? {});
  });
  return image;
}

/** An xfs or btrfs image holding the guest's root (in its first subvolume, if any); returns its path. */
export function makeHostFsDisk(name: string, spec: GuestSpec, options: HostFsOptions): string {
  const tree = makeGuestTree(name, spec);
  try {
    return hostFsOfTree(name, tree, options);
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/**
 * A btrfs spanning two devices (data and metadata in RAID1, as a
 * two-disk install makes it) holding the guest's root; returns the two
 * images. Mounted here from both loop devices, named with device=.
 */
export function makeBtrfsPair(name: string, spec: GuestSpec, uuid: string): [string, string] {
  const images = [join(VM_CACHE, `${name}.0.btrfs`), join(VM_CACHE, `${name}.1.btrfs`)] as [string, string];
  for (const image of images) {
    rmSync(image, { force: true });
    writeFileSync(image, '');
    truncateSync(image, SIZE_MIB.btrfs * 2 ** 20);
  }
  execFileSync('mkfs.btrfs', ['-q', '-L', name.slice(0, 32), '-U', uuid, '-d', 'raid1', '-m', 'raid1', ...images]);
  const loops = images.map((image) => execFileSync('losetup', ['-f', '--show', image], { encoding: 'utf8' }).trim());
  const dir = mkdtempSync(join(VM_CACHE, 'mnt-'));
  const tree = makeGuestTree(name, spec);
  try {
    execFileSync('mount', ['-t', 'btrfs', '-o', loops.map((l) => `device=${l}`).join(','), loops[0]!, dir]);
    try {
      execFileSync('cp', ['-a', `${tree}/.`, dir]);
    } finally {
      spawnSync('umount', [dir]);
    }
  } finally {
    for (const loop of loops) spawnSync('losetup', ['-d', loop]);
    rmSync(dir, { recursive: true, force: true });
    rmSync(tree, { recursive: true, force: true });
  }
  return images;
}

/**
 * A copy of `image` as a power cut leaves it right after `text` was
 * written to `path` (under `under`, a subvolume) and fsync'd: committed to
 * the journal or log tree only, so the kernel must replay it to show it.
 */
export function crashedCopy(image: string, under: string, path: string, text: string): string {
  const crashed = `${image}.crashed`;
  const working = `${image}.crashing`;
  execFileSync('cp', ['--sparse=always', image, working]);
  mounted(working, (dir) => {
    const fd = openSync(join(dir, under, path), 'w');
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    execFileSync('cp', ['--sparse=always', working, crashed]);
  });
  rmSync(working, { force: true });
  return crashed;
}
