// persist=SPEC: where the changes are kept across boots. SPEC names a device
// as root= does, optionally followed by ":/path" of an image file on that
// device's filesystem (dracut's rd.live.overlay=<devspec>:<pathspec>), so a
// FAT stick can carry an ext4 image, or a snapshot's store.

import { parseRootSpec, type RootSpec, showSpec } from './device-spec';

export interface PersistSpec {
  readonly device: RootSpec;
  /** An image file on the device's filesystem; null: the device itself. */
  readonly file: string | null;
}

export function parsePersistSpec(text: string): PersistSpec | null {
  // A device path may hold ":" (by-path names) but never ":/".
  const at = text.indexOf(':/');
  const device = parseRootSpec(at === -1 ? text : text.slice(0, at));
  const file = at === -1 ? null : text.slice(at + 1);
  if (device === null || (file !== null && !/^\/[^/]/.test(file))) return null;
  return { device, file };
}

export function showPersistSpec(spec: PersistSpec): string {
  return `${showSpec(spec.device)}${spec.file ?? ''}`;
}
