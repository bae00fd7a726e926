// The value parsers of the settings. Each reads the text a user wrote, on the
// command line or as the config file's JSON turned into that text (see
// json-forms.ts), and returns the value or undefined; the setting's row says
// what would have been valid, so one parser serves both sources.

import { parseRootSpec, type RootSpec } from '../formats/device-spec';
import { parsePersistSpec } from '../formats/persist-spec';
import { parseIpParam } from '../formats/ip-param';
import { parseNbdRoot } from '../formats/nbd-root';
import { parseNfsRoot, parseNfsrootParam } from '../formats/nfs-root';
import { parseSize, type Size } from '../formats/size';
import { BREAK_STAGES, type StageName } from './stage-names';

export type Parse<T> = (text: string) => T | undefined;

const MODULE_NAME = /^[A-Za-z0-9_-]+$/;

export const anyText: Parse<string> = (text) => text;

export function matching(pattern: RegExp): Parse<string> {
  return (text) => (pattern.test(text) ? text : undefined);
}

export function rootSpec(text: string): string | undefined {
  return parseRootSpec(text) ? text : undefined;
}

/** An http:// or https:// URL with a host and a file, as a fetched image needs. */
export function imageUrl(text: string): string | undefined {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.pathname.endsWith('/') ? text : undefined;
  } catch {
    return undefined;
  }
}

/** root=: a device as rootSpec takes it, dracut's live:URL of an image to fetch, or an NBD server's or NFS server's export. */
export function rootParam(text: string): string | undefined {
  if (text.startsWith('live:')) return imageUrl(text.slice('live:'.length)) ? text : undefined;
  if (text.startsWith('nbd:')) return 'error' in parseNbdRoot(text) ? undefined : text;
  if (text.startsWith('nfs:') || text.startsWith('nfs4:')) return 'error' in parseNfsRoot(text) ? undefined : text;
  return rootSpec(text);
}

export function nfsrootParam(text: string): string | undefined {
  return 'error' in parseNfsrootParam(text) ? undefined : text;
}

export function ipParam(text: string): string | undefined {
  return 'error' in parseIpParam(text) ? undefined : text;
}

export function persistSpec(text: string): string | undefined {
  return parsePersistSpec(text) ? text : undefined;
}

export function oneOf<T extends string>(values: readonly T[]): Parse<T> {
  return (text) => values.find((v) => v === text);
}

/** A bare flag reaches this as 1 (see the rows' `bare`). */
export function flag(text: string): boolean | undefined {
  return text === '1' ? true : text === '0' ? false : undefined;
}

export function integer(min: number, max = Number.POSITIVE_INFINITY): Parse<number> {
  return (text) => (/^-?\d{1,6}$/.test(text) && Number(text) >= min && Number(text) <= max ? Number(text) : undefined);
}

export function powerOfTwo(max: number): Parse<number> {
  return (text) => {
    const n = Number(text);
    return /^\d{1,4}$/.test(text) && n >= 1 && n <= max && (n & (n - 1)) === 0 ? n : undefined;
  };
}

export function size(text: string): Size | undefined {
  return parseSize(text) ?? undefined;
}

/** Comma-separated module names; blanks between commas are dropped. */
export function moduleList(text: string): readonly string[] | undefined {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return names.every((n) => MODULE_NAME.test(n)) ? names : undefined;
}

// dracut and systemd name a LUKS container by its UUID, with or without
// "luks-" in front (the name dracut gives its opened device).
const LUKS_UUID = /^(?:luks-)?([0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$/;

/** LUKS UUIDs separated by commas (the command line's repeats are joined so), lower-cased, "luks-" dropped. */
export function luksUuidList(text: string): readonly string[] | undefined {
  const uuids = text.split(',').filter(Boolean).map((u) => LUKS_UUID.exec(u)?.[1]?.toLowerCase());
  return uuids.every((u) => u !== undefined) ? (uuids as string[]) : undefined;
}

/** rd.luks.key=PATH or PATH:DEVICE (dracut's form): the key file, and the device holding it where it is not in the image. */
export function splitLuksKey(text: string): { readonly path: string; readonly device: RootSpec | null } | undefined {
  const at = text.indexOf(':');
  const path = at === -1 ? text : text.slice(0, at);
  const device = at === -1 ? null : parseRootSpec(text.slice(at + 1));
  return path.startsWith('/') && path.length > 1 && (at === -1 || device !== null) ? { path, device } : undefined;
}

export function luksKey(text: string): string | undefined {
  return splitLuksKey(text) ? text : undefined;
}

/** md array UUIDs, as mdadm writes them (8:8:8:8) or as blkid does (8-4-4-4-12), normalized to blkid's. */
export function mdUuidList(text: string): readonly string[] | undefined {
  const uuids = text.split(',').filter(Boolean).map((u) => {
    const hex = /^[0-9A-Fa-f:.-]+$/.test(u) ? u.replace(/[:.-]/g, '').toLowerCase() : '';
    return hex.length === 32 ? `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` : undefined;
  });
  return uuids.every((u) => u !== undefined) ? (uuids as string[]) : undefined;
}

// A /dev/mapper name: what dmsetup takes (no slash, no blank).
const MAPPER_NAME = /^[A-Za-z0-9#+_.:@-]+$/;

/** UUID=NAME pairs separated by commas, normalized: the UUID as luksUuidList takes it. */
export function luksNameList(text: string): readonly string[] | undefined {
  const pairs = text.split(',').filter(Boolean).map((pair) => {
    const at = pair.lastIndexOf('=');
    const uuid = luksUuidList(pair.slice(0, at))?.[0];
    const name = pair.slice(at + 1);
    return at > 0 && uuid !== undefined && MAPPER_NAME.test(name) ? `${uuid}=${name}` : undefined;
  });
  return pairs.every((p) => p !== undefined) ? (pairs as string[]) : undefined;
}

/** rd.luks.name='s pairs, split. */
export function luksNamePairs(names: readonly string[]): { readonly uuid: string; readonly name: string }[] {
  return names.map((pair) => ({ uuid: pair.slice(0, pair.lastIndexOf('=')), name: pair.slice(pair.lastIndexOf('=') + 1) }));
}

// LVM's names: letters, digits and +_.- (not starting with -).
const LVM_NAME = '[A-Za-z0-9+_.][A-Za-z0-9+_.-]*';

/** Volume group names (rd.lvm.vg), or VG/LV pairs (rd.lvm.lv), separated by commas. */
export function lvmNameList(withVolume: boolean): Parse<readonly string[]> {
  const name = new RegExp(withVolume ? `^${LVM_NAME}/${LVM_NAME}$` : `^${LVM_NAME}$`);
  return (text) => {
    const names = text.split(',').filter(Boolean);
    return names.every((n) => name.test(n)) ? names : undefined;
  };
}

/** rd.break with no stage stops before the last one: the switch to the new root. */
export function breakStages(text: string): readonly StageName[] | undefined {
  if (text === '') return ['handoff'];
  const stages: StageName[] = [];
  for (const name of text.split(',')) {
    const stage = BREAK_STAGES.find((s) => s === name);
    if (!stage) return undefined;
    stages.push(stage);
  }
  return stages;
}

// systemd's names for dm-verity's optional arguments (dm-verity spells them with _).
const VERITY_OPTIONS = ['ignore-corruption', 'restart-on-corruption', 'panic-on-corruption', 'ignore-zero-blocks', 'check-at-most-once'];

export function verityOptionList(text: string): readonly string[] | undefined {
  const options = text.split(',').filter(Boolean);
  return options.every((o) => VERITY_OPTIONS.includes(o)) ? options : undefined;
}
