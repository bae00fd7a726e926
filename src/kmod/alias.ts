// Matches device modaliases against modules.alias, whose patterns use shell
// wildcards (* ? [...]), as modprobe does for udev's coldplug.

interface AliasRule {
  readonly glob: string;
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

// Matched by hand, not through RegExp: under emulation, compiling a regular
// expression for each of the image's ~1000 aliases took 0.3 s of the boot,
// on the path to the root's drivers.

/** Whether `ch` is in the class glob[from..to) (the text between [ and ]): ranges, and ! to negate. */
function inClass(glob: string, from: number, to: number, ch: string): boolean {
  const negate = glob[from] === '!';
  for (let i = negate ? from + 1 : from; i < to; i++) {
    if (glob[i + 1] === '-' && i + 2 < to) {
      if (ch >= glob[i]! && ch <= glob[i + 2]!) return !negate;
      i += 2;
    } else if (glob[i] === ch) return !negate;
  }
  return negate;
}

/** The whole of `text` against shell wildcards (* ? [...]), as fnmatch(3) without flags. */
export function globMatch(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  // Where the last * was, and how much of the text it has taken: a mismatch gives it one more character.
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === '*') {
      star = g++;
      starText = t;
      continue;
    }
    if (c === '[') {
      const end = closing(glob, g);
      if (end === g ? text[t] === '[' : inClass(glob, g + 1, end, text[t]!)) {
        g = end + 1;
        t++;
        continue;
      }
    } else if (c === '?' || c === text[t]) {
      g++;
      t++;
      continue;
    }
    if (star === -1) return false;
    g = star + 1;
    t = ++starText;
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/** The ] that ends the class opened at `open`; `open` itself if none, and the [ is then a plain character. */
function closing(glob: string, open: number): number {
  const end = glob.indexOf(']', open + 1);
  return end === -1 ? open : end;
}

export function parseAliasRules(text: string): AliasIndex {
  const byPrefix = new Map<string, AliasRule[]>();
  const other: AliasRule[] = [];
  for (const line of text.split('\n')) {
    const [word, alias, module] = line.trim().split(/\s+/);
    if (word !== 'alias' || !alias || !module) continue;
    const rule = { glob: alias, module: module.replaceAll('-', '_') };
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
      if (globMatch(rule.glob, modalias)) found.add(rule.module);
    }
  }
  return [...found];
}
