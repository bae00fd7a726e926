// LVM volumes activated without udev and without a write: lvm's metadata
// is read-only for the whole run, each activated volume's device-mapper
// table is read-only, and only the kinds of volume whose activation writes
// nothing (linear and striped) are activated. A mirror or RAID volume may
// resync, a thin pool's metadata is checked and repaired, and a snapshot
// marked for merging starts merging, all of it on the user's disk, so those
// are left inactive, and the log says which and why.

import type { Context } from '../core/context';
import { exec } from '../core/exec';
import { setReadOnly } from './block';

export interface LogicalVolume {
  readonly vg: string;
  readonly lv: string;
  /** lvm's lv_attr: [0] the volume type, [4] its state (a: active). */
  readonly attr: string;
  /** The first segment's type: linear, striped, raid1, thin… */
  readonly segtype: string;
}

/** What blocks activating a volume without writing, or null if nothing does. */
export function whyNotActivated(volume: LogicalVolume): string | null {
  if (!['linear', 'striped'].includes(volume.segtype)) return `a ${volume.segtype} volume, which may write its disks as it starts (a resync, a metadata check)`;
  if ('soO'.includes(volume.attr[0] ?? '-')) return 'a snapshot or the origin of one, which may start merging as it is activated';
  return null;
}

export function parseLvs(stdout: string): LogicalVolume[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [vg = '', lv = '', attr = '', segtype = ''] = line.split('|');
      return { vg, lv, attr, segtype };
    });
}

/** The volumes rd.lvm.vg= and rd.lvm.lv= name, or all when they name none. */
export function wanted(volumes: readonly LogicalVolume[], vgs: readonly string[], lvs: readonly string[]): LogicalVolume[] {
  if (vgs.length === 0 && lvs.length === 0) return [...volumes];
  return volumes.filter((v) => vgs.includes(v.vg) || lvs.includes(`${v.vg}/${v.lv}`));
}

// Double quotes in lvm's config syntax; names hold none (rd.lvm.* are checked).
const quoted = (names: readonly string[]) => `[${names.map((n) => `"${n}"`).join(',')}]`;

/**
 * lvm's settings for a machine with no udev, no lvmetad, no devices file
 * and no writable /etc: it makes the /dev nodes itself, remembers nothing,
 * and with `readOnlyVgs`, makes every volume of those groups read-only.
 */
function lvmConfig(readOnlyVgs: readonly string[]): string {
  const settings = [
    'global/metadata_read_only=1',
    'activation/udev_sync=0',
    'activation/udev_rules=0',
    'activation/monitoring=0',
    'devices/use_devicesfile=0',
    'devices/hints="none"',
    'devices/obtain_device_list_from_udev=0',
    'backup/backup=0',
    'backup/archive=0',
    ...(readOnlyVgs.length > 0 ? [`activation/read_only_volume_list=${quoted(readOnlyVgs)}`] : []),
  ];
  return settings.join(' ');
}

/** The /dev/mapper name of a volume: lvm doubles the dashes in each part. */
export function mapperName(v: Pick<LogicalVolume, 'vg' | 'lv'>): string {
  return `${v.vg.replaceAll('-', '--')}-${v.lv.replaceAll('-', '--')}`;
}

/** The volume a /dev/mapper name is, split at its single dash; null for a name with none. */
export function volumeOfMapperName(name: string): Pick<LogicalVolume, 'vg' | 'lv'> | null {
  const at = /(?<!-)-(?!-)/.exec(name)?.index;
  return at === undefined ? null : { vg: name.slice(0, at).replaceAll('--', '-'), lv: name.slice(at + 1).replaceAll('--', '-') };
}

/**
 * Activates the inactive volumes that can be, read-only unless `writable`,
 * those rd.lvm.vg= and rd.lvm.lv= name where `onlyNamed`; returns the
 * /dev/mapper nodes made.
 */
export async function activateLvm(ctx: Context, writable: boolean, onlyNamed: boolean): Promise<string[]> {
  const { lvmVgs, lvmLvs } = ctx.config;
  const listing = await exec(ctx, ['lvm', 'lvs', '--readonly', '--noheadings', '--separator', '|', '-o', 'vg_name,lv_name,lv_attr,segtype', '--config', lvmConfig([])]);
  const all = parseLvs(listing);
  const volumes = (onlyNamed ? wanted(all, lvmVgs, lvmLvs) : all).filter((v) => v.attr[4] !== 'a');
  const ready = volumes.filter((v) => {
    const why = whyNotActivated(v);
    if (why) ctx.log.warn(`LVM: ${v.vg}/${v.lv} is left inactive: it is ${why}`);
    return why === null;
  });
  if (ready.length === 0) return [];
  const vgs = [...new Set(ready.map((v) => v.vg))];
  const names = ready.map((v) => `${v.vg}/${v.lv}`);
  await exec(ctx, ['lvm', 'lvchange', '-ay', '--sysinit', '--noudevsync', '--config', lvmConfig(writable ? [] : vgs), ...names], 'the dm_mod module must be loaded, and the volume group complete');
  const nodes = ready.map((v) => `/dev/mapper/${mapperName(v)}`);
  // The table is read-only already; the block device's flag is what every other check here reads.
  if (!writable) for (const node of nodes) await setReadOnly(ctx, node);
  ctx.log.info(`LVM: ${names.join(', ')} active${writable ? '' : ', read-only'}`);
  return nodes;
}
