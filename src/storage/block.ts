import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { exec } from '../core/exec';
import { perform } from '../core/mount';

/** A device's name in sysfs: /dev/vda is vda. */
export function sysfsName(device: string): string {
  return device.slice(device.lastIndexOf('/') + 1);
}

/**
 * A device's name in sysfs, where the path does not say it: a
 * /dev/mapper/NAME node (lvm and dmsetup make nodes, not links) is the
 * dm-N whose dm/name is NAME; a link (/dev/VG/LV, /dev/disk/by-*) is
 * followed.
 */
export function kernelName(ctx: Context, device: string): string {
  const mapper = /^\/dev\/mapper\/(.+)$/.exec(device);
  if (mapper) {
    for (const name of ctx.sys.readdir('/sys/class/block').filter((n) => n.startsWith('dm-'))) {
      try {
        if (ctx.sys.readText(`/sys/class/block/${name}/dm/name`).trim() === mapper[1]) return name;
      } catch {
        // Gone since the listing.
      }
    }
  }
  if (ctx.sys.lstat(device)?.kind === 'symlink') return sysfsName(ctx.sys.readlink(device));
  return sysfsName(device);
}

/** Whether another block device holds this one already (its sysfs name): a container opened under any name, an array member assembled. */
export function isHeld(ctx: Context, name: string): boolean {
  try {
    return ctx.sys.readdir(`/sys/class/block/${name}/holders`).length > 0;
  } catch {
    return false;
  }
}

/** A block device's size in 512-byte sectors, from sysfs. */
export function sectors(ctx: Context, device: string): number {
  const path = `/sys/class/block/${kernelName(ctx, device)}/size`;
  const value = Number(ctx.sys.readText(path).trim());
  if (!Number.isInteger(value) || value <= 0) throw new BootError(`cannot tell the size of ${device} (${path})`);
  return value;
}

/** Whether the kernel refuses writes to the device (blockdev --setro, or read-only hardware), from sysfs. */
export function isReadOnly(ctx: Context, device: string): boolean {
  try {
    return ctx.sys.readText(`/sys/class/block/${kernelName(ctx, device)}/ro`).trim() === '1';
  } catch {
    return false;
  }
}

/**
 * Attaches a file to a free loop device and returns the device. busybox
 * losetup does not print the device it chose, so it is found by its backing
 * file in sysfs.
 */
export async function attachLoop(ctx: Context, file: string, readOnly: boolean): Promise<string> {
  await exec(ctx, ['losetup', ...(readOnly ? ['-r'] : []), '-f', file], 'the loop module must be loaded');
  for (const name of ctx.sys.readdir('/sys/block').filter((n) => n.startsWith('loop'))) {
    try {
      if (ctx.sys.readText(`/sys/block/${name}/loop/backing_file`).trim() === file) return `/dev/${name}`;
    } catch {
      // A loop device with nothing attached has no backing_file.
    }
  }
  throw new BootError(`losetup attached ${file} but no loop device shows it in /sys/block`);
}

/** The kernel refuses every write to a read-only block device, journal replay included. */
export async function setReadOnly(ctx: Context, device: string): Promise<void> {
  await perform(ctx, { kind: 'setro', device });
}
