// md RAID arrays assembled read-only with mdadm, as their members appear:
// nothing resyncs and no superblock is written. An array whose members are
// not all there is started degraded, with a warning, once it has waited
// DEGRADED_WAIT_MS for the rest (a member on a slower bus may still come).

import type { Context } from '../core/context';
import { exec } from '../core/exec';
import { u32le } from '../formats/bytes';
import { DETECT_BYTES, mdSuperblockAt } from '../formats/superblocks';
import { isHeld, setReadOnly } from './block';
import type { BlockDevice } from './scan';

export const DEGRADED_WAIT_MS = 5000;

/** md itself and the RAID levels the installers offer. */
export const MD_MODULES = ['md_mod', 'raid0', 'raid1', 'raid10', 'raid456'] as const;

/** How many devices an array has, from a member's superblock; null where it cannot be read. */
function raidDisks(ctx: Context, device: BlockDevice): number | null {
  try {
    const head = ctx.sys.readHead(device.path, DETECT_BYTES);
    const at = mdSuperblockAt(head);
    return at === null ? null : u32le(head, at + 92);
  } catch {
    return null;
  }
}

// When each array's first member was seen, per boot.
const firstSeen = new WeakMap<Context, Map<string, number>>();

/** Assembles the arrays whose members are here (or have waited long enough); returns the UUIDs assembled. */
export async function assembleMd(ctx: Context, devices: readonly BlockDevice[]): Promise<string[]> {
  const seen = firstSeen.get(ctx) ?? new Map<string, number>();
  firstSeen.set(ctx, seen);
  const arrays = new Map<string, BlockDevice[]>();
  for (const d of devices) {
    const uuid = d.fs?.type === 'linux_raid_member' ? d.fs.uuid : null;
    if (!uuid || isHeld(ctx, d.name) || (ctx.config.mdUuids.length > 0 && !ctx.config.mdUuids.includes(uuid))) continue;
    arrays.set(uuid, [...(arrays.get(uuid) ?? []), d]);
  }
  const assembled: string[] = [];
  for (const [uuid, members] of arrays) {
    if (!seen.has(uuid)) seen.set(uuid, ctx.sys.now());
    const wanted = raidDisks(ctx, members[0]!) ?? members.length;
    const degraded = members.length < wanted;
    if (degraded && ctx.sys.now() - seen.get(uuid)! < DEGRADED_WAIT_MS) continue;
    // --readonly: not even the kernel's auto-read-only, which turns writable at the first write.
    await exec(ctx, ['mdadm', '--assemble', '--readonly', '--run', '--uuid', uuid, '--scan', '--config=partitions'], 'the md_mod and raid modules must be loaded');
    // What the kernel took, not what was offered: mdadm leaves out a member whose superblock disagrees with the others'.
    const taken = members.filter((m) => isHeld(ctx, m.name)).map((m) => m.path);
    const left = members.filter((m) => !isHeld(ctx, m.name)).map((m) => m.path);
    // A member left out is still the user's: nothing in the booted system may add it back and resync it.
    for (const m of members) await setReadOnly(ctx, m.path);
    if (left.length > 0) ctx.log.warn(`RAID ${uuid}: mdadm left ${left.join(', ')} out of the array (its superblock does not agree with the others'); set read-only and not used`);
    if (taken.length < wanted) ctx.log.warn(`RAID ${uuid}: ${taken.length} of its ${wanted} devices are in it (${taken.join(', ') || 'none'}), so it is started degraded, read-only; nothing is resynced`);
    else ctx.log.info(`RAID ${uuid}: assembled read-only from ${taken.join(', ')}`);
    assembled.push(uuid);
  }
  return assembled;
}
