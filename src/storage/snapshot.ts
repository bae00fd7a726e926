import type { Context } from '../context';
import { BootError } from '../errors';
import { exec } from '../exec';
import { sectors } from './block';

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
export async function createSnapshot(ctx: Context, name: string, origin: string, cow: string, kind: SnapshotKind, chunk = 8): Promise<string> {
  const node = `/dev/mapper/${name}`;
  // Tried again after the rescue shell (a later step failed): the snapshot is there already.
  if (ctx.sys.lstat(node) !== null) {
    ctx.log.info(`snapshot ${node} is already there`);
    return node;
  }
  const table = snapshotTable(sectors(ctx, origin), origin, cow, kind, chunk);
  // No udev in the initramfs: --noudevsync keeps dmsetup from waiting for it, and mknodes makes the node.
  await exec(ctx, ['dmsetup', '--noudevsync', 'create', name, '--table', table], 'the dm_snapshot module must be loaded');
  await exec(ctx, ['dmsetup', '--noudevsync', 'mknodes', name]);
  if (ctx.sys.lstat(node) === null) throw new BootError(`dmsetup made no ${node}`, { command: ['dmsetup', 'mknodes', name] });
  ctx.log.info(`snapshot ${node}: ${table}`);
  return node;
}
