// The block devices the kernel has, each identified by reading its first
// bytes in-process (no blkid, no process per device), and udev's
// /dev/disk/by-* links made from what was read.

import { DETECT_BYTES, type FsIdentity, identifyFs } from '../formats/superblocks';
import type { System } from '../sys/system';
import { readPartitionTable } from '../formats/partition-tables';
import { type RootSpec, udevEscape } from '../formats/device-spec';
import { DM_PREFIX } from '../layout/boot-paths';

export interface BlockDevice {
  readonly name: string;
  readonly path: string;
  readonly fs: FsIdentity | null;
  readonly partuuid: string | null;
  readonly partlabel: string | null;
  /**
   * One of cowboot's own device-mapper devices (a snapshot, a replay): it
   * has the UUID and label of the device it copies, so it must not be taken
   * for it.
   */
  readonly ours: boolean;
}

function readOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

export function scanBlockDevices(sys: System): BlockDevice[] {
  const names = sys.readdir('/sys/class/block');
  const heads = new Map<string, Uint8Array>();
  const head = (name: string) => {
    let bytes = heads.get(name);
    if (!bytes) {
      // A CD drive without a disc, an unattached loop device: nothing to read.
      bytes = readOr(() => sys.readHead(`/dev/${name}`, DETECT_BYTES), new Uint8Array(0));
      heads.set(name, bytes);
    }
    return bytes;
  };
  const devices: BlockDevice[] = [];
  for (const name of names) {
    const size = Number(readOr(() => sys.readText(`/sys/class/block/${name}/size`), '0').trim());
    if (!(size > 0)) continue;
    const number = Number(readOr(() => sys.readText(`/sys/class/block/${name}/partition`), '').trim());
    let partuuid: string | null = null;
    let partlabel: string | null = null;
    if (number > 0) {
      // /sys/class/block/vda1 -> ../../devices/…/block/vda/vda1: the disk is the folder above.
      const parent = readOr(() => sys.readlink(`/sys/class/block/${name}`), '').split('/').slice(-2)[0] ?? '';
      const entry = readPartitionTable(head(parent)).find((p) => p.number === number);
      partuuid = entry?.partuuid ?? null;
      partlabel = entry?.partlabel ?? null;
    }
    // Only device-mapper devices have a dm/ folder: no failed read per disk at each pass.
    const ours = name.startsWith('dm-') && readOr(() => sys.readText(`/sys/class/block/${name}/dm/name`), '').startsWith(DM_PREFIX);
    devices.push({ name, path: `/dev/${name}`, fs: identifyFs(head(name)), partuuid, partlabel, ours });
  }
  return devices;
}

export function matchesSpec(device: BlockDevice, spec: RootSpec): boolean {
  if (device.ours) return false;
  switch (spec.kind) {
    case 'path':
      return device.path === spec.path;
    case 'label':
      return device.fs?.label === spec.value;
    case 'uuid':
      return device.fs?.uuid?.toLowerCase() === spec.value.toLowerCase();
    case 'partuuid':
      return device.partuuid?.toLowerCase() === spec.value.toLowerCase();
    case 'partlabel':
      return device.partlabel === spec.value;
  }
}

export function describeDevice(d: BlockDevice): string {
  const parts = [d.name, d.fs?.type ?? 'no known filesystem'];
  if (d.fs?.label) parts.push(`LABEL=${d.fs.label}`);
  if (d.fs?.uuid) parts.push(`UUID=${d.fs.uuid}`);
  if (d.partuuid) parts.push(`PARTUUID=${d.partuuid}`);
  if (d.partlabel) parts.push(`PARTLABEL=${d.partlabel}`);
  return parts.join(' ');
}

/** The links udev would make, as [link, target] pairs. */
export function diskLinks(devices: readonly BlockDevice[]): [string, string][] {
  const links: [string, string][] = [];
  for (const d of devices) {
    if (d.ours) continue;
    const add = (dir: string, value: string | null | undefined) => value && links.push([`/dev/disk/${dir}/${udevEscape(value)}`, `../../${d.name}`]);
    add('by-label', d.fs?.label);
    add('by-uuid', d.fs?.uuid);
    add('by-partuuid', d.partuuid);
    add('by-partlabel', d.partlabel);
  }
  return links;
}
