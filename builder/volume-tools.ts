// Which volume tools an image carries (cowboot build --volumes): lvm,
// cryptsetup and mdadm with their libraries cost 5.0 MiB of a 40.8 MiB image, so by
// default only those of the volumes open on the build machine, which is
// most often the machine the image boots (cowboot install builds so).
// nbd-client (root=nbd:) is packed only when asked for: a machine does not
// boot its own disk over NBD.

import { readdirSync, readFileSync } from 'node:fs';
import { BuildError } from './host';
import { stackOf, type SysfsRead } from './volume-stack';

export const VOLUME_KINDS = ['lvm', 'luks', 'md', 'nbd'] as const;
export type VolumeKind = (typeof VOLUME_KINDS)[number];
export type VolumesOption = 'auto' | readonly VolumeKind[];

export function parseVolumesOption(text: string): VolumesOption {
  if (text === 'auto') return 'auto';
  if (text === 'none') return [];
  const kinds = text.split(',');
  if (!kinds.every((k): k is VolumeKind => (VOLUME_KINDS as readonly string[]).includes(k))) {
    throw new BuildError(`--volumes ${text} is not valid: expected auto, none, or a list of ${VOLUME_KINDS.join(', ')} separated by commas`);
  }
  return [...new Set(kinds)];
}

/** This machine's sysfs, as the stack reader reads it. */
export const HOST_SYSFS: SysfsRead = {
  text(path) {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return '';
    }
  },
  list(path) {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
};

/** The volume kinds among the block devices of a machine: each device's own layer, LVM volume, LUKS container or RAID array. */
export function openVolumes(sys: SysfsRead = HOST_SYSFS): VolumeKind[] {
  const kinds = sys.list('/sys/class/block').map((name) => stackOf(name, sys)[0]?.kind);
  return VOLUME_KINDS.filter((kind) => kind !== 'nbd' && kinds.includes(kind));
}
