// The booted system's view of its own storage, as overlayroot and live-boot
// give it: an fstab inside the union that describes the union (pass 0, so no
// init checks or remounts the medium), the fstab's other local filesystems
// protected as mounts= says, swap on the user's disks left off, and
// initramfs-tools' mark that the root needs no fsck. The fstab on the medium
// is never written: this one lives in the union's RAM layer.

import { parseRootSpec, showSpec } from '../formats/device-spec';
import type { Context } from '../core/context';
import type { RootFound } from '../storage/find-device';
import type { Services } from '../kmod/services';
import type { Stage } from './results';
import { BootError } from '../core/errors';
import { entryKind, type FstabEntry, type FstabLine, fstabLine, kernelOptions, parseFstab } from '../formats/fstab';
import { NEW_ROOT } from '../layout/image-paths';
import { mountOnce } from '../core/mount';
import { UNION_KINDS } from '../union';
import { FSCK_ROOT, FSTAB, HANDOVER_DIR, MOUNTS_DIR } from '../layout/boot-paths';
import { setReadOnly } from '../storage/block';
import { type Filesystem, identify, mountFilesystem, ramSnapshot, withLogReplayed } from '../storage/filesystem';
import { findDevice } from '../storage/find-device';
import { loadModule } from '../kmod/services';
import { overlayOptions, REFUSED_LOWER } from '../union/overlayfs';
import { carriedMedium, mediumText } from '../formats/medium-copy';
import { openCrypttab } from './crypttab';

// The root has been found, so the disks are there; what is missing now
// (a volume the booted system would assemble, an unplugged stick) stays so.
const DEVICE_WAIT_MS = 5000;

const commented = (why: string, entry: FstabEntry) => `# cowboot: ${why}: ${entry.line.trim()}`;

/** A folder name for a mount point: /srv/www is srv-www. */
function folderFor(file: string, taken: Set<string>): string {
  const base = file.replace(/^\/+/, '').replace(/\//g, '-').replace(/[^A-Za-z0-9_.-]/g, '_') || 'root';
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base}-${i}`;
  taken.add(name);
  return name;
}

/** What the stage works with: the earlier stages' results, the union's fstab line, and the folder names taken so far. */
interface Inputs {
  readonly services: Services;
  readonly root: RootFound;
  rootLine(root: RootFound, entry: FstabEntry): string;
  /** The union's writable node of the root's filesystem, if it has one (UnionKind.sharedDevice). */
  readonly sharedDevice: string | null;
  readonly folders: Set<string>;
}

/** The device of an fstab line, set read-only; null (and a warning) when it is not there. */
async function protectDevice(ctx: Context, services: Services, entry: FstabEntry): Promise<string | null> {
  const spec = parseRootSpec(entry.spec);
  if (spec === null) throw new BootError(`internal: ${entry.spec} is not a device`);
  const found = await findDevice(ctx, services, spec, entry.options.includes('nofail') ? 0 : DEVICE_WAIT_MS, 'fstab');
  if (found.path === null) {
    ctx.log.warn(`${showSpec(spec)} (${entry.file} in ${FSTAB}) is not there at boot, so it is left unmounted and nothing can write it; mounts=fstab leaves the fstab as it is`);
    return null;
  }
  await setReadOnly(ctx, found.path);
  return found.path;
}

/**
 * A local filesystem of the fstab, protected: its device read-only (its
 * journal replayed into RAM if need be), mounted read-only, and with
 * mounts=cow an overlayfs on top whose changes live in RAM. Returns the
 * lines for the new fstab.
 */
async function protect(ctx: Context, inputs: Inputs, entry: FstabEntry): Promise<string[]> {
  const { services, folders } = inputs;
  const device = await protectDevice(ctx, services, entry);
  if (device === null) return [commented('not there at boot, so left unmounted', entry)];
  const readOnly = ['ro', ...kernelOptions(entry)];
  const target = `${NEW_ROOT}${entry.file}`;
  if (device === inputs.root.device && inputs.sharedDevice !== null) return sharedWithRoot(ctx, inputs, inputs.sharedDevice, entry, target);
  try {
    const fs = await withLogReplayed(ctx, services, await identify(ctx, services, device, entry.type === 'auto' ? null : entry.type, `its type in ${FSTAB}`), async () => MOUNTS_DIR);
    ctx.sys.mkdirp(target);
    if (ctx.config.mounts === 'ro') {
      await mountFilesystem(ctx, fs, target, readOnly.join(','));
      ctx.log.info(`${entry.file}: ${device} (${fs.type}) mounted read-only (mounts=ro)`);
      return [commented('mounted read-only at boot (mounts=ro)', entry), fstabLine(fs.device, entry.file, fs.type, readOnly)];
    }
    if (REFUSED_LOWER.includes(fs.type)) return await underSnapshot(ctx, services, fs, entry, target);
    const dir = `${MOUNTS_DIR}/${folderFor(entry.file, folders)}`;
    await mountFilesystem(ctx, fs, `${dir}/ro`, readOnly.join(','));
    ctx.sys.mkdirp(`${dir}/upper`);
    ctx.sys.mkdirp(`${dir}/work`);
    const options = overlayOptions(`${dir}/ro`, `${dir}/upper`, `${dir}/work`);
    await mountOnce(ctx, { type: 'overlay', source: 'overlay', target, options });
    ctx.log.info(`${entry.file}: ${device} (${fs.type}) read-only under a RAM overlay; changes in ${dir}/upper`);
    return [commented('read-only under a RAM overlay (mounts=cow)', entry), fstabLine('overlay', entry.file, 'overlay', ['rw', options])];
  } catch (error) {
    if (!(error instanceof BootError)) throw error;
    // A filesystem this image has no driver for (the booted system may have one) is not worth a failed boot:
    // its device is read-only, so the booted system mounts it read-only.
    ctx.log.warn(`${entry.file}: ${error.message}; left to the booted system, read-only`);
    const options = ['ro', ...entry.options.filter((o) => o !== 'rw' && o !== 'defaults')];
    return [commented('could not be mounted at boot; left to the booted system, read-only', entry), fstabLine(entry.spec, entry.file, entry.type, options)];
  }
}

/**
 * mounts=cow for a filesystem overlayfs takes no lower layer of (the ESP's
 * vfat): the device under a snapshot whose changes go to RAM, mounted
 * writable where the fstab puts it, with the fstab's options.
 */
async function underSnapshot(ctx: Context, services: Services, fs: Filesystem, entry: FstabEntry, target: string): Promise<string[]> {
  const device = await ramSnapshot(ctx, services, fs, async () => MOUNTS_DIR, {
    purpose: 'mount',
    why: `the RAM snapshot of ${entry.file}`,
    starting: null,
    done: (snapshot, file) => `${entry.file}: ${fs.device} (${fs.type}) under a RAM snapshot, ${snapshot}, as overlayfs takes no ${fs.type} lower layer; changes in ${file}`,
  });
  const options = ['rw', ...kernelOptions(entry)];
  await mountFilesystem(ctx, { ...fs, device }, target, options.join(','));
  return [commented(`under a RAM snapshot (mounts=cow; overlayfs takes no ${fs.type})`, entry), fstabLine(device, entry.file, fs.type, options)];
}

/**
 * Another mount of the root's own filesystem (a btrfs subvolume, /home on
 * subvol=@home): the union holds the root's device, and btrfs mounts one
 * filesystem from one device only, so it is mounted from the union's node,
 * and its changes join the root's.
 */
async function sharedWithRoot(ctx: Context, { root }: Inputs, node: string, entry: FstabEntry, target: string): Promise<string[]> {
  const options = ['rw', ...kernelOptions(entry)];
  ctx.sys.mkdirp(target);
  await mountOnce(ctx, { type: root.fsType, source: node, target, options: options.join(',') });
  ctx.log.info(`${entry.file}: on the root's filesystem (${root.device}), so mounted from ${node} (overlay=${ctx.config.overlay}); its changes go with the root's`);
  return [commented(`on the root's filesystem, mounted from ${node} (overlay=${ctx.config.overlay})`, entry), fstabLine(node, entry.file, root.fsType, options)];
}

async function rewrite(ctx: Context, inputs: Inputs, line: FstabLine): Promise<string[]> {
  if (line.kind === 'text') return [line.line];
  const { entry } = line;
  const kind = entryKind(entry);
  switch (kind) {
    case 'root':
      return [commented(`the root is the union (overlay=${ctx.config.overlay})`, entry), inputs.rootLine(inputs.root, entry)];
    case 'swap':
      return ctx.config.swap ? [entry.line] : [commented('swap on the disk stays off (boot with "swap" to use it)', entry)];
    case 'local':
      return ctx.config.mounts === 'fstab' ? [entry.line] : protect(ctx, inputs, entry);
    case 'other':
      return [entry.line];
  }
}

/**
 * A root that cannot be written (overlay=none) keeps its fstab: the devices
 * of its other filesystems and of its swap are set read-only instead, so the
 * booted system mounts them read-only and cannot turn the swap on.
 */
async function writeProtect(ctx: Context, services: Services, lines: readonly FstabLine[]): Promise<void> {
  for (const line of lines) {
    if (line.kind !== 'entry') continue;
    const kind = entryKind(line.entry);
    if ((kind === 'local' && ctx.config.mounts !== 'fstab') || (kind === 'swap' && !ctx.config.swap && parseRootSpec(line.entry.spec) !== null)) {
      const device = await protectDevice(ctx, services, line.entry);
      if (device !== null) ctx.log.info(`${line.entry.file}: ${device} set read-only; ${FSTAB} is used as written, as the root cannot be written`);
    }
  }
}

const HEADER = (ctx: Context) => [
  `# Written at boot by cowboot: this system runs frozen, and its changes live in RAM`,
  `# (overlay=${ctx.config.overlay}, mounts=${ctx.config.mounts}${ctx.config.swap ? ', swap' : ''}). The fstab on the disk is unchanged;`,
  '# its lines are kept here, commented out where cowboot mounted something else.',
];

export const protectMounts: Stage<'fstab'> = {
  name: 'fstab',
  async run(ctx, before) {
    const { overlay, mounts } = ctx.config;
    const kind = UNION_KINDS[overlay];
    if (kind.rootUse(ctx.config) === 'writable device') {
      ctx.log.info(`overlay=${overlay}: the root is writable as asked, and ${FSTAB} is used as written`);
      return;
    }
    ctx.sys.mkdirp(HANDOVER_DIR);
    ctx.sys.writeText(FSCK_ROOT, '');
    const path = `${NEW_ROOT}${FSTAB}`;
    let text: string;
    try {
      text = mediumText(ctx.sys.readText(path), 'fstab');
    } catch {
      ctx.log.info(`no ${FSTAB} in the new root: no other filesystem to protect`);
      return;
    }
    const lines = parseFstab(text);
    await openCrypttab(ctx, before.drivers, kind.fstabRoot !== null);
    if (kind.fstabRoot === null) {
      await writeProtect(ctx, before.drivers, lines);
      return;
    }
    if (mounts === 'cow' && lines.some((l) => l.kind === 'entry' && entryKind(l.entry) === 'local')) {
      await loadModule(ctx, before.drivers, 'overlay', 'the RAM overlays of the fstab (mounts=cow)');
    }
    const inputs: Inputs = { services: before.drivers, root: before.root, rootLine: kind.fstabRoot, sharedDevice: kind.sharedDevice, folders: new Set() };
    const out = [...HEADER(ctx)];
    for (const line of lines) out.push(...(await rewrite(ctx, inputs, line)));
    out.push(...carriedMedium(text, 'fstab'));
    ctx.sys.writeText(path, `${out.join('\n')}\n`);
    ctx.log.info(`${FSTAB} in the union describes the union; the root needs no fsck (${FSCK_ROOT})`);
  },
};
