// The volumes that hold filesystems, assembled as their devices appear and
// without udev: LUKS containers opened, LVM volume groups activated. Each
// pass that makes a device is followed by another scan, so stacks assemble
// in any order (LVM on LUKS, LUKS on LVM) until nothing new appears.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { loadModule, type Services } from '../kmod/services';
import { activateLvm } from './lvm';
import { LUKS_MODULES, luksName, openLuks } from './luks';
import { VOLUME_TOOLS } from '../layout/image-paths';
import type { BlockDevice } from './scan';

/**
 * Whether the boot asks to write the user's volumes: overlay=none rw (the
 * one kind whose root is then a writable device, union/none.ts), or
 * mounts=fstab.
 */
export function asksToWrite(ctx: Context): boolean {
  return (ctx.config.overlay === 'none' && ctx.config.rw) || ctx.config.mounts === 'fstab';
}

// The physical volumes lvm was run for, per boot: it runs again only when one appears.
const lvmSeen = new WeakMap<Context, Set<string>>();

function missingTool(ctx: Context, tool: keyof typeof VOLUME_TOOLS): string | null {
  const { path, debianPackage } = VOLUME_TOOLS[tool];
  return ctx.sys.lstat(path) === null ? `the image has no ${tool} (${path}): build it on a machine with Debian's ${debianPackage} installed` : null;
}

function wantsLuks(ctx: Context, device: BlockDevice): boolean {
  const uuid = device.fs?.uuid?.toLowerCase();
  if (!ctx.config.luks || device.ours || device.fs?.type !== 'crypto_LUKS' || !uuid) return false;
  return ctx.config.luksUuids.length === 0 || ctx.config.luksUuids.includes(uuid);
}

/**
 * Opens and activates what `devices` hold that is not open yet; true when a
 * new device was made. A LUKS failure (no passphrase) fails the boot; an
 * LVM one is a warning, since the device looked for may be elsewhere.
 */
export async function assembleVolumes(ctx: Context, services: Services, devices: readonly BlockDevice[]): Promise<boolean> {
  let made = false;
  const readOnly = !asksToWrite(ctx);
  for (const device of devices.filter((d) => wantsLuks(ctx, d))) {
    if (ctx.sys.lstat(`/dev/mapper/${luksName(device.fs!.uuid!)}`) !== null) continue;
    const missing = missingTool(ctx, 'cryptsetup');
    if (missing) throw new BootError(`${device.path} is encrypted (LUKS UUID=${device.fs!.uuid}), and ${missing}`, { hint: 'or boot with rd.luks=0 if the root is elsewhere' });
    for (const module of LUKS_MODULES) await loadModule(ctx, services, module, 'LUKS containers');
    await openLuks(ctx, device, readOnly);
    made = true;
  }
  const pvs = devices.filter((d) => d.fs?.type === 'LVM2_member').map((d) => d.path);
  const seen = lvmSeen.get(ctx) ?? new Set();
  lvmSeen.set(ctx, seen);
  if (ctx.config.lvm && pvs.some((pv) => !seen.has(pv))) {
    pvs.forEach((pv) => seen.add(pv));
    try {
      const missing = missingTool(ctx, 'lvm');
      if (missing) throw new Error(`${pvs.join(', ')} hold LVM volumes, and ${missing}`);
      await loadModule(ctx, services, 'dm_mod', 'LVM volumes');
      made = (await activateLvm(ctx, !readOnly)).length > 0 || made;
    } catch (error) {
      ctx.log.warn(`LVM: ${(error as Error).message}`);
    }
  }
  return made;
}
