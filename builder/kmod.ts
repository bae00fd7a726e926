// Picks kernel modules and everything they need from the kernel's own
// metadata (modules.dep, modules.alias, modules.builtin), as modprobe would.

export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, '').replaceAll('-', '_');
}

/** modules.dep: each module's path and the paths of the modules it needs. */
export function parseModulesDep(text: string): Map<string, string[]> {
  const deps = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    deps.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim().split(/\s+/).filter(Boolean));
  }
  return deps;
}

/** Exact aliases only ("alias crc32c crc32c_generic"); wildcard device aliases need a device to match. */
export function parseAliases(text: string): Map<string, string[]> {
  const aliases = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [word, alias, module] = line.trim().split(/\s+/);
    if (word !== 'alias' || !alias || !module || /[*?[]/.test(alias)) continue;
    const key = alias.replaceAll('-', '_');
    aliases.set(key, [...(aliases.get(key) ?? []), module.replaceAll('-', '_')]);
  }
  return aliases;
}

export function parseBuiltin(text: string): Set<string> {
  return new Set(text.split('\n').filter(Boolean).map(moduleName));
}

export interface ModuleSelection {
  /** Paths relative to the modules folder, dependencies included, sorted. */
  readonly paths: string[];
  readonly builtin: string[];
  readonly missing: string[];
}

export function selectModules(
  wanted: readonly string[],
  deps: ReadonlyMap<string, readonly string[]>,
  aliases: ReadonlyMap<string, readonly string[]>,
  builtin: ReadonlySet<string>,
): ModuleSelection {
  const pathByName = new Map<string, string>();
  for (const path of deps.keys()) pathByName.set(moduleName(path), path);
  const paths = new Set<string>();
  const found = { builtin: [] as string[], missing: [] as string[] };
  const addPath = (path: string) => {
    if (paths.has(path)) return;
    paths.add(path);
    for (const dep of deps.get(path) ?? []) addPath(dep);
  };
  for (const raw of wanted) {
    const name = raw.replaceAll('-', '_');
    const providers = pathByName.has(name) || builtin.has(name) ? [name] : (aliases.get(name) ?? []);
    const loadable = providers.filter((p) => pathByName.has(p));
    if (loadable.length > 0) loadable.forEach((p) => addPath(pathByName.get(p)!));
    else if (providers.some((p) => builtin.has(p))) found.builtin.push(raw);
    else found.missing.push(raw);
  }
  return { paths: [...paths].sort(), ...found };
}
