// What a block device sits on, read down its device-mapper and md slaves in
// sysfs: an LVM logical volume, an opened LUKS container, a RAID array, and
// at the bottom a partition or disk. install judges a root by it, and status
// names it ("LV vg0/root on LUKS UUID=… on /dev/vda3").

import { volumeOfMapperName } from '../src/storage/lvm';

export type Layer =
  | { readonly kind: 'lvm'; readonly vg: string; readonly lv: string }
  | { readonly kind: 'luks'; readonly uuid: string }
  | { readonly kind: 'md'; readonly device: string }
  /** Another device-mapper device (dm-verity, multipath, a plain dm-crypt…), by its dm name. */
  | { readonly kind: 'dm'; readonly name: string }
  | { readonly kind: 'disk'; readonly device: string };

export interface SysfsRead {
  /** A sysfs file's text, trimmed; '' where it cannot be read. */
  text(path: string): string;
  /** A sysfs folder's entries; [] where there is none. */
  list(path: string): string[];
}

const hyphenated = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

function layerOf(name: string, sys: SysfsRead): Layer {
  const dir = `/sys/class/block/${name}`;
  if (name.startsWith('md')) return { kind: 'md', device: `/dev/${name}` };
  if (!name.startsWith('dm-')) return { kind: 'disk', device: `/dev/${name}` };
  const uuid = sys.text(`${dir}/dm/uuid`);
  const dmName = sys.text(`${dir}/dm/name`);
  if (uuid.startsWith('LVM-')) return { kind: 'lvm', ...(volumeOfMapperName(dmName) ?? { vg: dmName.replaceAll('--', '-'), lv: '' }) };
  // CRYPT-LUKS2-<32 hex>-<name>: the container's UUID, without its dashes.
  const luks = /^CRYPT-LUKS\d-([0-9a-f]{32})-/.exec(uuid);
  if (luks) return { kind: 'luks', uuid: hyphenated(luks[1]!) };
  return { kind: 'dm', name: dmName || name };
}

/** The layers from `name` down to its disks, top first; a layer over several devices (a RAID, a VG on two disks) lists each below it. */
export function stackOf(name: string, sys: SysfsRead): Layer[] {
  const slaves = name.startsWith('dm-') || name.startsWith('md') ? sys.list(`/sys/class/block/${name}/slaves`) : [];
  return [layerOf(name, sys), ...slaves.flatMap((slave) => stackOf(slave, sys))];
}

export function describeLayer(layer: Layer): string {
  switch (layer.kind) {
    case 'lvm':
      return `LV ${layer.vg}/${layer.lv}`;
    case 'luks':
      return `LUKS UUID=${layer.uuid}`;
    case 'md':
      return `RAID ${layer.device}`;
    case 'dm':
      return `device-mapper device ${layer.name}`;
    case 'disk':
      return layer.device;
  }
}

export function describeStack(layers: readonly Layer[]): string {
  return layers.map(describeLayer).join(' on ');
}

/** The layers cowboot's image cannot assemble at boot, with why. */
export function unassembled(layers: readonly Layer[]): string | null {
  for (const layer of layers) {
    switch (layer.kind) {
      case 'dm':
        return `${layer.name} is a device-mapper device that is neither an LVM volume nor a LUKS container, which cowboot's image would not make at boot`;
      case 'md':
      case 'lvm':
      case 'luks':
      case 'disk':
        break;
    }
  }
  return null;
}
