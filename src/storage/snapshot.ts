import type { Context } from '../core/context';
import { sectors } from './block';
import { createDmDevice } from './device-mapper';

/**
 * PO (persistent with overflow): when the COW is full, writes that need a
 * new chunk fail and the snapshot stays readable. N: a full COW invalidates
 * it; right where the COW is as large as the origin and cannot fill.
 */
type SnapshotKind = 'PO' | 'N';

export function snapshotTable(originSectors: number, origin: string, cow: string, kind: SnapshotKind, chunk: number): string {
  return `0 ${originSectors} snapshot ${origin} ${cow} ${kind} ${chunk}`;
}

/** A device-mapper snapshot of `origin` whose changes go to `cow`; returns its /dev/mapper node. */
export function createSnapshot(ctx: Context, name: string, origin: string, cow: string, kind: SnapshotKind, chunk = 8): Promise<string> {
  return createDmDevice(ctx, name, snapshotTable(sectors(ctx, origin), origin, cow, kind, chunk), { what: 'snapshot', readOnly: false, hint: 'the dm_snapshot module must be loaded' });
}
