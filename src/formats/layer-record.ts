// Which root a kept layer belongs to. Overlayfs over a lower that changed is
// undefined behaviour, and a snapshot's store over another origin is noise:
// a layer records the root it was made over (what its superblock says, its
// size, and a hash of its first bytes, which any write to the root changes)
// and the union kind that made it, and is used only over that root.

import { createHash } from 'node:crypto';
import { identifyFs } from './superblocks';
import { formatBytes } from './size';

export interface RootIdentity {
  readonly type: string | null;
  readonly uuid: string | null;
  readonly label: string | null;
  readonly bytes: number;
  /** SHA-256 of the device's first bytes (the superblock and what follows), in hex. */
  readonly head: string;
}

export interface LayerRecord {
  readonly format: 1;
  readonly overlay: string;
  readonly root: RootIdentity;
}

export function rootIdentity(head: Uint8Array, bytes: number): RootIdentity {
  const fs = identifyFs(head);
  return { type: fs?.type ?? null, uuid: fs?.uuid ?? null, label: fs?.label ?? null, bytes, head: createHash('sha256').update(head).digest('hex') };
}

export function showRoot(root: RootIdentity): string {
  const names = [root.label ? `LABEL=${root.label}` : null, root.uuid ? `UUID=${root.uuid}` : null].filter(Boolean).join(' ');
  return `${root.type ?? 'unknown'}${names ? ` ${names}` : ''}, ${formatBytes(root.bytes)}`;
}

export function parseRecord(text: string): LayerRecord | null {
  try {
    const value = JSON.parse(text) as Partial<LayerRecord>;
    const root = value.root as Partial<RootIdentity> | undefined;
    if (value.format !== 1 || typeof value.overlay !== 'string' || typeof root?.head !== 'string' || typeof root.bytes !== 'number') return null;
    return { format: 1, overlay: value.overlay, root: { type: root.type ?? null, uuid: root.uuid ?? null, label: root.label ?? null, bytes: root.bytes, head: root.head } };
  } catch {
    return null;
  }
}

/** Why the layer does not belong here, or null when it does. */
export function mismatch(record: LayerRecord, overlay: string, root: RootIdentity): string | null {
  if (record.overlay !== overlay) return `it was made by overlay=${record.overlay}, and this boot uses overlay=${overlay}`;
  if (record.root.head === root.head && record.root.bytes === root.bytes) return null;
  const same = record.root.uuid !== null && record.root.uuid === root.uuid && record.root.type === root.type;
  return same
    ? `it was made over this root (${showRoot(record.root)}) before the root changed: its first bytes or its size differ now`
    : `it was made over another root (${showRoot(record.root)}), not this one (${showRoot(root)})`;
}

// A snapshot's store fills its device; cowboot keeps the first MiB for the record.
const HEADER_MAGIC = 'cowboot-layer\n';
/** Where a snapshot's store starts on its device, after the record. */
export const STORE_OFFSET = 1024 * 1024;

export function encodeHeader(record: LayerRecord): string {
  return `${HEADER_MAGIC}${JSON.stringify(record)}\n\0`;
}

/** The record at the start of a snapshot's device: a record, 'none' (no header), or 'unreadable'. */
export function decodeHeader(head: Uint8Array): LayerRecord | 'none' | 'unreadable' {
  const text = Buffer.from(head.subarray(0, 4096)).toString('latin1');
  if (!text.startsWith(HEADER_MAGIC)) return 'none';
  const end = text.indexOf('\0');
  return parseRecord(text.slice(HEADER_MAGIC.length, end === -1 ? undefined : end)) ?? 'unreadable';
}
