// Picks kernel modules and everything they need from the kernel's own
// metadata, with the same parsers /init uses at boot.

import { type AliasIndex, matchModaliases } from '../src/kmod/alias';
import type { ModuleDb } from '../src/kmod/loader';

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

/** modules.alias and modules.dep cut down to the modules in the image: less to read and match at boot. */
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
