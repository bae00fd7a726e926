// Picks kernel modules and everything they need from the kernel's own
// metadata, with the same parsers /init uses at boot.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { type AliasIndex, matchModaliases } from '../src/kmod/alias';
import type { ModuleDb } from '../src/kmod/loader';
import { type Compression, FORMATS } from './formats';
import { findTool } from './host';

// Debian 13 ships its modules compressed (.ko.xz). busybox's insmod hands the
// kernel the file first, which it refuses as no ELF (a line on the console
// for every module, even with quiet), then decompresses it itself. The image
// holds them plain instead: the kernel loads them at once, the image's own
// compression packs them, and the signature, made before compression, is in
// the plain file.
const COMPRESSED_MODULE = /\.ko\.(xz|zst|gz)$/;
const BY_SUFFIX: Readonly<Record<string, Compression>> = { xz: 'xz', zst: 'zstd', gz: 'gzip' };

/** A module's path in the image, for its path in the kernel's tree. */
export const plainModulePath = (path: string): string => path.replace(COMPRESSED_MODULE, '.ko');

/** modules.dep with the image's paths. */
export const plainModuleDep = (text: string): string => text.replace(/\.ko\.(xz|zst|gz)\b/g, '.ko');

/** A module file as the image holds it: decompressed where the kernel's tree has it compressed. */
export function plainModule(file: string): Buffer {
  const suffix = COMPRESSED_MODULE.exec(file)?.[1];
  if (suffix === undefined) return readFileSync(file);
  const format = FORMATS[BY_SUFFIX[suffix]!];
  if (format.kind !== 'compressed') throw new Error(`internal: ${suffix} is no compression`);
  return execFileSync(findTool(format.tool), [...format.decompressArgs, file], { maxBuffer: 1 << 28 });
}

interface ModuleSelection {
  /** Module names, dependencies included, sorted. */
  readonly modules: string[];
  readonly builtin: string[];
  readonly missing: string[];
}

/** A name is a module, or an alias (crc32c, fs-ext2) that modules provide. */
export function selectModules(wanted: readonly string[], db: ModuleDb, aliases: AliasIndex): ModuleSelection {
  const chosen = new Set<string>();
  const found = { builtin: [] as string[], missing: [] as string[] };
  const add = (name: string) => {
    if (chosen.has(name)) return;
    chosen.add(name);
    for (const dep of db.deps.get(name) ?? []) add(dep);
  };
  for (const raw of wanted) {
    const name = raw.replaceAll('-', '_');
    const providers = db.paths.has(name) || db.builtin.has(name) ? [name] : matchModaliases(aliases, [raw]);
    const loadable = providers.filter((p) => db.paths.has(p));
    if (loadable.length > 0) loadable.forEach(add);
    else if (providers.some((p) => db.builtin.has(p))) found.builtin.push(raw);
    else found.missing.push(raw);
  }
  return { modules: [...chosen].sort(), ...found };
}

/** The module an alias line names: modules.alias's and modules.symbols's "alias WHAT MODULE". */
export const aliasModule = (line: string): string | null => line.trim().split(/\s+/)[2]?.replaceAll('-', '_') ?? null;

/** modules.dep, modules.alias or modules.symbols cut down to the modules in the image: less to unpack, read and match at boot. */
export function filterMetadata(text: string, keep: ReadonlySet<string>, nameOf: (line: string) => string | null): string {
  return text
    .split('\n')
    .filter((line) => {
      const name = nameOf(line);
      return name !== null && keep.has(name);
    })
    .map((line) => `${line}\n`)
    .join('');
}
