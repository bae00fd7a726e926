// The volumes that hold filesystems, assembled as their devices appear and
// without udev: md arrays, LUKS containers opened, LVM volume groups activated. Each
// pass that makes a device is followed by another scan, so stacks assemble
// in any order (LVM on LUKS, LUKS on LVM) until nothing new appears.

import type { Context } from '../core/context';
import { luksNamePairs, splitLuksKey } from '../config/parsers';
import { exec } from '../core/exec';
import { showSpec } from '../formats/device-spec';
import { isHeld, setReadOnly } from './block';
import { identify, lookingOptions, mountFilesystem } from './filesystem';
import { loadModule, type Services } from '../kmod/services';
import { activateLvm } from './lvm';
import { LUKS_MODULES, type LuksOpening, luksName, openLuks } from './luks';
import { VOLUME_TOOLS } from '../layout/image-paths';
import { assembleMd, MD_MODULES } from './md';
import { type BlockDevice, matchesSpec } from './scan';

/**
 * Whether the boot asks to write the user's volumes: overlay=none rw (the
 * one kind whose root is then a writable device, union/none.ts), or
 * mounts=fstab.
 */
export function asksToWrite(ctx: Context): boolean {
  return (ctx.config.overlay === 'none' && ctx.config.rw) || ctx.config.mounts === 'fstab';
}

/**
 * How far a pass assembles: at the root's search, what rd.lvm.vg= and
 * rd.lvm.lv= name; for the root's fstab, every LVM volume, since the fstab
 * names what it needs by the filesystems inside them.
 */
export type AssemblyScope = 'named' | 'fstab';

// The physical volumes lvm was run for, per boot and scope: it runs again only when one appears.
const lvmSeen = new WeakMap<Context, Record<AssemblyScope, Set<string>>>();

// What was warned of, per boot: a missing tool is said once, not at every pass.
const warned = new WeakMap<Context, Set<string>>();

/**
 * Whether the image has `tool`; if not, a warning naming `what`, once. Not
 * a failure: the volume may hold nothing this boot needs (a data disk);
 * the root's search ends with its own message if it does.
 */
function hasTool(ctx: Context, tool: keyof typeof VOLUME_TOOLS, what: string): boolean {
  const { path, debianPackage } = VOLUME_TOOLS[tool];
  if (ctx.sys.lstat(path) !== null) return true;
  const said = warned.get(ctx) ?? new Set<string>();
  warned.set(ctx, said);
  if (!said.has(what)) ctx.log.warn(`${what}, and the image has no ${tool} (${path}), so it is left as it is: build the image with cowboot build --volumes, on a machine with Debian's ${debianPackage} installed`);
  said.add(what);
  return false;
}

/** The name rd.luks.name= gives a container, else dracut's. */
function nameFor(ctx: Context, uuid: string): string {
  return luksNamePairs(ctx.config.luksNames).find((n) => n.uuid === uuid)?.name ?? luksName(uuid);
}

function wantsLuks(ctx: Context, device: BlockDevice): boolean {
  const uuid = device.fs?.uuid?.toLowerCase();
  if (!ctx.config.luks || device.ours || device.fs?.type !== 'crypto_LUKS' || !uuid || isHeld(ctx, device.name)) return false;
  const named = [...ctx.config.luksUuids, ...luksNamePairs(ctx.config.luksNames).map((n) => n.uuid)];
  return named.length === 0 || named.includes(uuid);
}

// rd.luks.key=PATH:DEVICE: the device is mounted here, read-only, only while a container is opened (not under /run, which the booted system gets).
const KEY_DEVICE_DIR = '/cowboot-keydev';

/**
 * Runs `open` with rd.luks.key='s key file: in the image, or on a device
 * that is here now (a key stick), mounted read-only for the while. A key
 * device that is not here leaves the passphrase to be asked.
 */
async function withKeyFile<T>(ctx: Context, services: Services, devices: readonly BlockDevice[], open: (keyFile: LuksOpening['keyFile']) => Promise<T>): Promise<T> {
  const given = ctx.config.luksKey;
  const key = given === null ? undefined : splitLuksKey(given);
  if (!key) return open(null);
  const hint = key.device ? `the key device holds no ${key.path}` : `add it to the image: cowboot build --add-file KEYFILE:${key.path}`;
  if (key.device === null) return open({ path: key.path, given: `rd.luks.key=${given}`, hint });
  const holder = devices.find((d) => matchesSpec(d, key.device!));
  if (!holder) {
    ctx.log.warn(`rd.luks.key=${given}: ${showSpec(key.device)} is not here, so the passphrase is asked`);
    return open(null);
  }
  await setReadOnly(ctx, holder.path);
  const fs = await identify(ctx, services, holder.path, null, `rd.luks.key=${given}`);
  ctx.sys.mkdirp(KEY_DEVICE_DIR);
  await mountFilesystem(ctx, fs, KEY_DEVICE_DIR, lookingOptions(fs.type));
  try {
    return await open({ path: `${KEY_DEVICE_DIR}${key.path}`, given: `rd.luks.key=${given}`, hint });
  } finally {
    await exec(ctx, ['umount', KEY_DEVICE_DIR]);
  }
}

/** Opens one LUKS container, as `opening` says (its name and key), the modules first; null where the image has no cryptsetup. */
export async function openContainer(ctx: Context, services: Services, device: BlockDevice, opening: Omit<LuksOpening, 'readOnly'>): Promise<string | null> {
  if (!hasTool(ctx, 'cryptsetup', `${device.path} is encrypted (LUKS UUID=${device.fs?.uuid})`)) return null;
  for (const module of LUKS_MODULES) await loadModule(ctx, services, module, 'LUKS containers');
  return openLuks(ctx, device, { ...opening, readOnly: !asksToWrite(ctx) });
}

/**
 * Opens and activates what `devices` hold that is not open yet; true when a
 * new device was made. A LUKS failure (no passphrase) fails the boot; an
 * LVM one is a warning, since the device looked for may be elsewhere.
 */
export async function assembleVolumes(ctx: Context, services: Services, devices: readonly BlockDevice[], scope: AssemblyScope = 'named'): Promise<boolean> {
  const started = ctx.sys.now();
  const made = await assemblePass(ctx, services, devices, scope);
  if (made.length > 0) ctx.events.emit({ kind: 'volumes-assembled', made, ms: Math.round(ctx.sys.now() - started) });
  return made.length > 0;
}

/** One pass of assembleVolumes; returns what it made, as the log names it. */
async function assemblePass(ctx: Context, services: Services, devices: readonly BlockDevice[], scope: AssemblyScope): Promise<string[]> {
  const made: string[] = [];
  for (const device of devices.filter((d) => wantsLuks(ctx, d))) {
    if (!hasTool(ctx, 'cryptsetup', `${device.path} is encrypted (LUKS UUID=${device.fs?.uuid})`)) continue;
    const name = nameFor(ctx, device.fs!.uuid!.toLowerCase());
    const node = await withKeyFile(ctx, services, devices, (keyFile) => openContainer(ctx, services, device, { name, keyFile }));
    if (node !== null) made.push(`LUKS ${node}`);
  }
  const members = devices.filter((d) => d.fs?.type === 'linux_raid_member');
  if (ctx.config.md && members.length > 0 && hasTool(ctx, 'mdadm', `${members.map((d) => d.path).join(', ')} are RAID members`)) {
    for (const module of MD_MODULES) await loadModule(ctx, services, module, 'RAID arrays');
    made.push(...(await assembleMd(ctx, devices)).map((uuid) => `RAID ${uuid}`));
  }
  const pvs = devices.filter((d) => d.fs?.type === 'LVM2_member').map((d) => d.path);
  const seenBy = lvmSeen.get(ctx) ?? { named: new Set<string>(), fstab: new Set<string>() };
  lvmSeen.set(ctx, seenBy);
  const seen = seenBy[scope];
  if (ctx.config.lvm && pvs.some((pv) => !seen.has(pv))) {
    pvs.forEach((pv) => seen.add(pv));
    if (!hasTool(ctx, 'lvm', `${pvs.join(', ')} hold LVM volumes`)) return made;
    try {
      await loadModule(ctx, services, 'dm_mod', 'LVM volumes');
      const nodes = await activateLvm(ctx, asksToWrite(ctx), scope === 'named');
      if (nodes.length > 0) made.push(`LVM ${nodes.join(', ')}`);
    } catch (error) {
      ctx.log.warn(`LVM: ${(error as Error).message}`);
    }
  }
  return made;
}
