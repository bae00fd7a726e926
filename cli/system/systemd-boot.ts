// systemd-boot's side of install, uninstall and status. Beside each
// kernel's own Boot Loader Specification type 1 entry, which Debian's
// kernel-install writes, a frozen one: the same kernel on the ESP, cowboot's
// image beside it. A kernel-install plugin adds and removes it with the
// kernel; systemd-boot's default is read as systemd-boot picks it.

import { globMatch } from '../../src/kmod/alias';
import type { Change } from './changes';
import type { LoaderVariables, SystemdBootFacts } from './facts';
import { ENTRY_SUFFIX, imagePath } from './layout';

/** Where kernel-install keeps a kernel's files on the ESP ($BOOT/TOKEN/VER), as its plugins are told. */
export const entryDir = (boot: SystemdBootFacts, kernel: string) => `${boot.bootRoot}/${boot.token}/${kernel}`;

/** Our entry's file name: kernel-install removes $TOKEN-$VER*.conf with the kernel, so ours goes too. */
export const entryId = (boot: SystemdBootFacts, kernel: string) => `${boot.token}-${kernel}-cowboot.conf`;
export const entryPath = (boot: SystemdBootFacts, kernel: string) => `${boot.bootRoot}/loader/entries/${entryId(boot, kernel)}`;
/** The image on the ESP, beside the kernel kernel-install copied there. */
export const espImagePath = (boot: SystemdBootFacts, kernel: string) => `${entryDir(boot, kernel)}/initrd.img-${kernel}.cowboot`;

/** What decides our entry's place: ahead of the system's own for --default, right after it otherwise. */
export function sortKey(boot: SystemdBootFacts, makeDefault: boolean): string {
  return makeDefault ? 'cowboot' : `${boot.osId}-cowboot`;
}

/** The entry's options: ours first, then the system's own kernel command line (/etc/kernel/cmdline) less its root=. */
export function entryOptions(boot: SystemdBootFacts, cmdline: string): string {
  const own = (boot.kernelCmdline ?? '').split(/\s+/).filter((word) => word !== '' && !word.startsWith('root='));
  return [cmdline, ...own].join(' ');
}

export function entryText(boot: SystemdBootFacts, kernel: string, options: string, key: string): string {
  const dir = `/${boot.token}/${kernel}`;
  return [
    '# Written by "cowboot install" and its kernel-install plugin; "cowboot uninstall" removes it.',
    `title      ${boot.osName}, ${ENTRY_SUFFIX}`,
    `version    ${kernel}`,
    `sort-key   ${key}`,
    `options    ${options}`,
    `linux      ${dir}/linux`,
    `initrd     ${dir}/initrd.img-${kernel}.cowboot`,
    '',
  ].join('\n');
}

/** The frozen entry of one kernel: its image copied beside the kernel on the ESP, and the entry. */
export function entryChanges(boot: SystemdBootFacts, kernel: string, options: string, key: string): Change[] {
  return [
    { kind: 'copy', path: espImagePath(boot, kernel), source: imagePath(kernel), mode: 0o644 },
    { kind: 'write', path: entryPath(boot, kernel), text: entryText(boot, kernel, options, key), mode: 0o644, what: `systemd-boot's frozen entry for Linux ${kernel}` },
  ];
}

export interface LoaderEntry {
  readonly id: string;
  readonly title: string;
  readonly sortKey: string | null;
  readonly machineId: string | null;
  readonly version: string | null;
}

export function parseEntry(id: string, text: string): LoaderEntry {
  const field = (key: string) => new RegExp(`^${key}[ \\t]+(.*?)\\s*$`, 'm').exec(text)?.[1] ?? null;
  return { id, title: field('title') ?? id, sortKey: field('sort-key'), machineId: field('machine-id'), version: field('version') };
}

// strverscmp-like: runs of digits compare as numbers.
function versionCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

const byteCompare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * The Boot Loader Specification's order: entries with a sort-key first, by
 * sort-key, then machine-id, then version newest first; the rest by their
 * file names, newest version first.
 */
export function sortEntries(entries: readonly LoaderEntry[]): LoaderEntry[] {
  return [...entries].sort((a, b) => {
    if ((a.sortKey === null) !== (b.sortKey === null)) return a.sortKey === null ? 1 : -1;
    if (a.sortKey !== null && b.sortKey !== null) {
      const byKey = byteCompare(a.sortKey, b.sortKey) || byteCompare(a.machineId ?? '', b.machineId ?? '');
      if (byKey !== 0) return byKey;
      const byVersion = versionCompare(b.version ?? '', a.version ?? '');
      if (byVersion !== 0) return byVersion;
    }
    return versionCompare(b.id, a.id);
  });
}

/** The entry systemd-boot boots by default: the first, in order, that loader.conf's default matches; the first without one. */
export function defaultEntry(entries: readonly LoaderEntry[], pattern: string | null): LoaderEntry | null {
  const sorted = sortEntries(entries);
  return (pattern === null ? sorted[0] : sorted.find((e) => globMatch(pattern, e.id))) ?? null;
}

/** The boot loader interface's vendor GUID (systemd's BOOT_LOADER_INTERFACE.md), as efivarfs names its variables. */
export const LOADER_GUID = '4a67b082-0a4c-41cf-b6c7-440b29bb8c4f';

/** An efivarfs file as the string it holds: 4 bytes of attributes, then UTF-16LE up to a NUL; null where empty. */
export function efiString(bytes: Uint8Array): string | null {
  const text = Buffer.from(bytes.subarray(4)).toString('utf16le').replace(/\0[\s\S]*$/, '');
  return text === '' ? null : text;
}

const frozenness = (entry: LoaderEntry) => (entry.id.endsWith('-cowboot.conf') ? 'frozen' : 'not frozen');

/**
 * What systemd-boot boots, in its own order (config_select_default_entry):
 * the one-shot entry for the next boot, then LoaderEntryDefault, then
 * loader.conf's default; each a glob, passed over where it matches nothing.
 */
export function systemdBootDefault(entries: readonly LoaderEntry[], pattern: string | null, loaderConf: string, variables: LoaderVariables): string {
  const sorted = sortEntries(entries);
  const match = (glob: string | null) => (glob === null ? null : (sorted.find((e) => globMatch(glob, e.id)) ?? null));
  const byVariable = match(variables.default);
  const confHow = pattern === null ? `no default in ${loaderConf}: the first entry` : `${loaderConf}: default ${pattern}`;
  const how = byVariable
    ? `LoaderEntryDefault=${variables.default}, which wins over ${loaderConf}`
    : variables.default !== null
      ? `LoaderEntryDefault=${variables.default} names no entry, so ${confHow}`
      : confHow;
  const entry = byVariable ?? defaultEntry(entries, pattern);
  const line = entry ? `systemd-boot's default is "${entry.title}" (${how}): ${frozenness(entry)}` : `systemd-boot's default (${how}) names no entry`;
  const once = match(variables.oneShot);
  return once ? `${line}; the next boot only: "${once.title}" (LoaderEntryOneShot=${variables.oneShot}): ${frozenness(once)}` : line;
}
