// Matches device modaliases against modules.alias, whose patterns use shell
// wildcards (* ? [...]), as modprobe does for udev's coldplug.

interface AliasRule {
  readonly pattern: RegExp;
  readonly module: string;
}

/** Rules indexed by their literal start, so a modalias is tested only against rules that can match. */
export interface AliasIndex {
  readonly byPrefix: ReadonlyMap<string, readonly AliasRule[]>;
  readonly prefixLength: number;
  /** Rules whose wildcards start too early to index. */
  readonly other: readonly AliasRule[];
}

const PREFIX = 12;

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += c.replace(/[\\^$.|+(){}]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function parseAliasRules(text: string): AliasIndex {
  const byPrefix = new Map<string, AliasRule[]>();
  const other: AliasRule[] = [];
  for (const line of text.split('\n')) {
    const [word, alias, module] = line.trim().split(/\s+/);
    if (word !== 'alias' || !alias || !module) continue;
    const rule = { pattern: globToRegExp(alias), module: module.replaceAll('-', '_') };
    const wild = alias.search(/[*?[]/);
    if (wild !== -1 && wild < PREFIX) other.push(rule);
    else {
      const key = alias.slice(0, PREFIX);
      byPrefix.set(key, [...(byPrefix.get(key) ?? []), rule]);
    }
  }
  return { byPrefix, prefixLength: PREFIX, other };
}

/** The modules whose aliases match any of the modaliases, each once, in order of first match. */
export function matchModaliases(index: AliasIndex, modaliases: readonly string[]): string[] {
  const found = new Set<string>();
  for (const modalias of modaliases) {
    for (const rule of [...(index.byPrefix.get(modalias.slice(0, index.prefixLength)) ?? []), ...index.other]) {
      if (rule.pattern.test(modalias)) found.add(rule.module);
    }
  }
  return [...found];
}
