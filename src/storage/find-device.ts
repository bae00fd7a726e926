// Waiting for a block device named as root= or the fstab name it, without
// udev: each change in /dev runs coldplug for new devices and reads the
// block devices again, assembling the volumes they hold (LUKS, LVM).

import { type RootSpec, showSpec } from '../formats/device-spec';
import { type BlockDevice, describeDevice, diskLinks, matchesSpec, scanBlockDevices } from './scan';
import type { Context } from '../core/context';
import type { Services } from '../kmod/services';
import { type AssemblyScope, assembleVolumes } from './volumes';

export interface RootFound {
  /** The block device holding the root filesystem: root=, or the loop device of loop=. */
  readonly device: string;
  readonly fsType: string;
}

// Without netlink (Node has none) and with no uevent helper in distribution
// kernels, devices are noticed through /dev; a device behind a bus whose
// driver is not loaded yet makes no node, so coldplug also runs this often.
const COLDPLUG_SAFETY_NET_MS = 1000;

// md under LUKS under LVM under LUKS is four; more is a loop.
const MAX_ASSEMBLY_PASSES = 8;

function makeDiskLinks(ctx: Context, devices: readonly BlockDevice[]): void {
  for (const [link, target] of diskLinks(devices)) {
    try {
      ctx.sys.mkdirp(link.slice(0, link.lastIndexOf('/')));
      ctx.sys.symlink(target, link);
    } catch (error) {
      ctx.log.warn(`could not make ${link}: ${(error as Error).message}`);
    }
  }
}

type Found = { readonly path: string } | { readonly path: null; readonly seen: readonly BlockDevice[] };

/**
 * Waits up to `limitMs` (Infinity: for ever) for a device that `pick`
 * chooses among the block devices; it is asked again whenever /dev changes.
 */
export async function waitForDevice(ctx: Context, services: Services, limitMs: number, pick: (devices: readonly BlockDevice[]) => Promise<string | null>, scope: AssemblyScope = 'named'): Promise<Found> {
  const deadline = ctx.sys.now() + limitMs;
  let devices: BlockDevice[] = [];
  for (;;) {
    const seen = ctx.sys.deviceEvents();
    devices = scanBlockDevices(ctx.sys);
    // Each pass assembles one layer of a stack; the bound keeps a tool that makes devices without end from holding the boot.
    for (let pass = 0; pass < MAX_ASSEMBLY_PASSES && (await assembleVolumes(ctx, services, devices, scope)); pass++) devices = scanBlockDevices(ctx.sys);
    makeDiskLinks(ctx, devices);
    const path = await pick(devices);
    if (path !== null) return { path };
    const left = deadline - ctx.sys.now();
    if (left <= 0) return { path: null, seen: devices };
    await ctx.sys.waitForDeviceEvent(seen, Math.min(left, COLDPLUG_SAFETY_NET_MS));
    services.background.push(services.coldplug());
  }
}

/** Waits up to `limitMs` (Infinity: for ever) for the device `spec` names; `scope`: which volumes to assemble meanwhile. */
export function findDevice(ctx: Context, services: Services, spec: RootSpec, limitMs: number, scope: AssemblyScope = 'named'): Promise<Found> {
  return waitForDevice(ctx, services, limitMs, async (devices) => {
    // A path names its node directly, block device in sysfs or not (a /dev/mapper name, say).
    if (spec.kind === 'path' && ctx.sys.lstat(spec.path) !== null) return spec.path;
    const found = devices.find((d) => matchesSpec(d, spec));
    if (found) ctx.log.info(`${showSpec(spec)} is ${describeDevice(found)}`);
    return found?.path ?? null;
  }, scope);
}

export function describeSeen(devices: readonly BlockDevice[]): string {
  return devices.length > 0 ? devices.map(describeDevice).join('; ') : 'none';
}
