// A filesystem on a block device: what it is (given or read from its
// superblock), its driver loaded, and mounted read-only without writing the
// device, even when its journal or log needs replaying.

import type { Context } from '../core/context';
import type { Services } from '../kmod/services';
import { BootError } from '../core/errors';
import { btrfsDevices, DETECT_BYTES, detectFsType, fsModule, identifyFs, replayNeed } from '../formats/superblocks';
import { mountOnce } from '../core/mount';
import { DM_PREFIX, REPLAY_DIR } from '../layout/boot-paths';
import { loadModule } from '../kmod/services';
import { attachLoop, kernelName, sectors, setReadOnly, sysfsName } from './block';
import { scanBlockDevices } from './scan';
import { createSnapshot } from './snapshot';

/** Block-device filesystems the kernel can mount now, from /proc/filesystems. */
function kernelFilesystems(ctx: Context): string[] {
  try {
    return ctx.sys
      .readText('/proc/filesystems')
      .split('\n')
      .filter((line) => line.startsWith('\t'))
      .map((line) => line.trim());
  } catch {
    return [];
  }
}

function kernelKnows(ctx: Context): string {
  return `the kernel can mount: ${kernelFilesystems(ctx).join(' ') || 'nothing yet'}`;
}

export interface Filesystem {
  readonly device: string;
  readonly type: string;
  /** What the superblock says, whatever the user gave. */
  readonly detected: string | null;
  readonly module: string;
  /** Where the type was given, for messages: "rootfstype=", "/etc/fstab (/data)". */
  readonly typeSource: string;
  readonly given: boolean;
  /** Why mounting it needs a writable device (a journal or log to replay), and whether that is known or only possible; null: it does not. */
  readonly replay: ReturnType<typeof replayNeed>;
  /** The other devices of a btrfs that spans several (the kernel is told of them with device=), found by its UUID. */
  readonly members: readonly string[];
}

/**
 * The other devices of a multi-device btrfs, where `wanted` are: the
 * kernel learns of them from device= (no btrfs device scan, no udev).
 */
function btrfsMembers(ctx: Context, device: string, head: Uint8Array, detected: string | null): string[] {
  const wanted = btrfsDevices(detected, head);
  if (wanted <= 1) return [];
  const uuid = identifyFs(head)?.uuid;
  const self = kernelName(ctx, device);
  const others = scanBlockDevices(ctx.sys).filter((d) => d.fs?.type === 'btrfs' && d.fs.uuid === uuid && !d.ours && d.name !== self);
  if (others.length < wanted - 1) {
    throw new BootError(`${device}: this btrfs (UUID=${uuid}) spans ${wanted} devices, and ${others.length + 1} are here${others.length ? ` (${[device, ...others.map((o) => o.path)].join(', ')})` : ''}`, {
      hint: 'a slow device may need rootdelay=; cowboot does not mount a btrfs degraded',
    });
  }
  return others.map((o) => o.path);
}

/** The filesystem on `device`: the type given (from `typeSource`) or detected; its driver is loaded. */
export async function identify(ctx: Context, services: Services, device: string, given: string | null, typeSource: string): Promise<Filesystem> {
  const head = ctx.sys.readHead(device, DETECT_BYTES);
  const detected = detectFsType(head);
  const type = given ?? detected;
  if (type === null) {
    throw new BootError(`no known filesystem on ${device}: no ext2/3/4, squashfs, iso9660, erofs, xfs, btrfs, vfat or exfat signature`, {
      hint: `${kernelKnows(ctx)}; no driver was loaded for it; if the device is right, give its type with ${typeSource}`,
    });
  }
  const module = fsModule(type);
  await loadModule(ctx, services, module, `${type} on ${device}`);
  const members = btrfsMembers(ctx, device, head, detected);
  return { device, type, detected, module, typeSource, given: given !== null, replay: replayNeed(detected, head), members };
}

// Each leaves a journal or log that needs replaying as it is, where plain ro would fail on a read-only device.
const LOOKING: Readonly<Record<string, string>> = { ext3: 'ro,noload', ext4: 'ro,noload', xfs: 'ro,norecovery', btrfs: 'ro,nologreplay' };

/** Options to look at a filesystem without writing it: a stick searched for an ISO file, a persistence medium. */
export function lookingOptions(type: string): string {
  return LOOKING[type] ?? 'ro';
}

export async function mountFilesystem(ctx: Context, fs: Filesystem, target: string, options: string): Promise<void> {
  for (const member of fs.members) await setReadOnly(ctx, member);
  const all = [options, ...fs.members.map((m) => `device=${m}`)].filter(Boolean).join(',');
  try {
    await mountOnce(ctx, { type: fs.type, source: fs.device, target, options: all });
  } catch (error) {
    if (!(error instanceof BootError)) throw error;
    const looksLike = fs.detected === null ? 'no known signature' : `it looks like ${fs.detected}`;
    throw new BootError(error.message, {
      ...error.detail,
      hint: `${fs.device} was mounted as ${fs.type}${fs.given ? ` (${fs.typeSource})` : ''} and ${looksLike}; modules tried: ${fs.module}; ${kernelKnows(ctx)}`,
    });
  }
}

/**
 * A snapshot covers one device: btrfs, writing through it, would write the
 * others. `why`: what would take the one device.
 */
export function requireOneDevice(fs: Filesystem, why: string): void {
  if (fs.members.length === 0) return;
  throw new BootError(`${fs.device} (btrfs) spans ${fs.members.length + 1} devices (${[fs.device, ...fs.members].join(', ')}), and ${why}`, {
    hint: 'boot with overlay=overlayfs, which mounts it read-only from all of them (after one normal boot, if its log needs replaying)',
  });
}

/** For the root: a tmpfs of its own for the replay, made only when a journal or log needs one. */
export async function replaySpace(ctx: Context): Promise<string> {
  await mountOnce(ctx, { type: 'tmpfs', source: 'replay', target: REPLAY_DIR, options: 'mode=0700' });
  return REPLAY_DIR;
}

/**
 * A filesystem whose journal or log needs replaying cannot be mounted from a
 * read-only device, and noload, norecovery or nologreplay would show a
 * stale, maybe inconsistent tree.
 * The replay goes into RAM instead: a snapshot of the device whose changes
 * land in a sparse file in `space` (a folder on a tmpfs, made when first
 * needed). The device itself stays read-only.
 */
export async function withLogReplayed(ctx: Context, services: Services, fs: Filesystem, space: () => Promise<string>): Promise<Filesystem> {
  const { replay } = fs;
  if (replay === null) return fs;
  requireOneDevice(fs, 'its log needs replaying into a RAM snapshot, which would cover the first only: btrfs would write the others');
  const device = await ramSnapshot(ctx, services, fs, space, {
    purpose: 'replay',
    why: `replaying the log of ${fs.device}`,
    // Every xfs comes here, and most are clean: a warning for a replay that is only possible would cry wolf.
    starting: replay.certain ? `${fs.device} (${fs.type}) was not cleanly unmounted: ${replay.why}; the replay goes into RAM, and ${fs.device} stays unchanged` : null,
    done: (snapshot, file) => `${fs.device} (${fs.type}): ${replay.why}, so it is mounted from ${snapshot}, whose changes go to ${file}; ${fs.device} stays unchanged`,
  });
  return { ...fs, device, replay: null };
}

interface SnapshotWords {
  /** In its name, cowboot-PURPOSE-DEVICE, and its file's. */
  readonly purpose: string;
  /** Why its modules are loaded. */
  readonly why: string;
  /** Warned before it is made. */
  readonly starting: string | null;
  readonly done: (snapshot: string, file: string) => string;
}

/**
 * A writable snapshot of the filesystem's device whose changes land in a
 * sparse file in `space` (a folder on a tmpfs, made when first needed):
 * sized like the device, so it never runs full, and sparse, so only the
 * blocks written take RAM. The device itself stays read-only. A boot tried
 * again after the rescue shell finds it made, and says nothing more.
 */
export async function ramSnapshot(ctx: Context, services: Services, fs: Filesystem, space: () => Promise<string>, words: SnapshotWords): Promise<string> {
  const name = sysfsName(fs.device);
  const snapshot = `${DM_PREFIX}${words.purpose}-${name}`;
  if (ctx.sys.lstat(`/dev/mapper/${snapshot}`) !== null) return `/dev/mapper/${snapshot}`;
  if (words.starting !== null) ctx.log.warn(words.starting);
  await loadModule(ctx, services, 'dm_snapshot', words.why);
  await loadModule(ctx, services, 'loop', words.why);
  const file = `${await space()}/${name}.${words.purpose}`;
  ctx.sys.createSparseFile(file, sectors(ctx, fs.device) * 512);
  const cow = await attachLoop(ctx, file, false);
  const device = await createSnapshot(ctx, snapshot, fs.device, cow, 'N');
  ctx.log.info(words.done(device, file));
  return device;
}
