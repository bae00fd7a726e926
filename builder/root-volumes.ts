// Which volume tools an image carries (cowboot build --volumes): lvm and
// cryptsetup with their libraries cost 4.7 MiB of a 40.5 MiB image, so by
// default only what the build machine's own root sits on, read from its
// device-mapper stack in sysfs (LVM volumes are dm devices whose dm/uuid
// starts with LVM-, opened LUKS containers with CRYPT-LUKS).

import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { BuildError } from './host';

export const VOLUME_KINDS = ['lvm', 'luks'] as const;
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

const readOr = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
};

/** The volume kinds under a block device (its sysfs name), down its slaves. */
export function volumesUnder(name: string, read = readOr, slaves = (n: string) => readdirOr(`/sys/class/block/${n}/slaves`)): VolumeKind[] {
  const uuid = read(`/sys/class/block/${name}/dm/uuid`);
  const here: VolumeKind[] = uuid.startsWith('LVM-') ? ['lvm'] : uuid.startsWith('CRYPT-LUKS') ? ['luks'] : [];
  return [...new Set([...here, ...slaves(name).flatMap((s) => volumesUnder(s, read, slaves))])];
}

function readdirOr(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

/** The volume kinds this machine's root filesystem sits on. */
export function hostRootVolumes(): VolumeKind[] {
  const line = readOr('/proc/self/mountinfo').split('\n').find((l) => l.split(' ')[4] === '/');
  const source = line?.split(' - ')[1]?.split(' ')[1];
  if (!source?.startsWith('/dev/')) return [];
  try {
    return volumesUnder(basename(realpathSync(source)));
  } catch {
    return [];
  }
}
