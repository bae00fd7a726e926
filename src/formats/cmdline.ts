// Parses the kernel command line the way the kernel does (lib/cmdline.c
// next_arg): words split on whitespace, double quotes group spaces, the value
// of key="a b" loses its quotes, and "--" hands everything after it to init.

interface CmdlineParam {
  readonly key: string;
  /** null for a bare flag such as `quiet`. */
  readonly value: string | null;
}

export interface Cmdline {
  readonly params: readonly CmdlineParam[];
  /** Arguments the kernel passes on to init: bare words it does not know, and all after "--". */
  readonly initArgs: readonly string[];
}

function splitWords(text: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') {
      quoted = !quoted;
      inWord = true;
      continue;
    }
    if (!quoted && /\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
      continue;
    }
    current += ch;
    inWord = true;
  }
  if (inWord) words.push(current);
  return words;
}

// Bare words the kernel consumes itself; any other bare word without a dot
// is passed to init as an argument (a runlevel, `single`, `splash`).
const KERNEL_FLAGS = new Set([
  'quiet', 'debug', 'ro', 'rw', 'rootwait', 'nosmp', 'noapic', 'nolapic', 'nomodeset',
  'noresume', 'nokaslr', 'earlyprintk', 'ignore_loglevel', 'initcall_debug', 'nohz',
]);

export function parseCmdline(text: string): Cmdline {
  const params: CmdlineParam[] = [];
  const initArgs: string[] = [];
  const words = splitWords(text);
  const dashes = words.indexOf('--');
  const kernelWords = dashes === -1 ? words : words.slice(0, dashes);
  for (const word of kernelWords) {
    const eq = word.indexOf('=');
    if (eq === -1) {
      params.push({ key: word, value: null });
      if (!KERNEL_FLAGS.has(word) && !word.includes('.')) initArgs.push(word);
    } else {
      params.push({ key: word.slice(0, eq), value: word.slice(eq + 1) });
    }
  }
  if (dashes !== -1) initArgs.push(...words.slice(dashes + 1));
  return { params, initArgs };
}

/** Every value given for these keys, in order. */
export function allParams(cmdline: Cmdline, ...keys: readonly string[]): CmdlineParam[] {
  return cmdline.params.filter((param) => keys.includes(param.key));
}

/** The last value given for `key` (the kernel's and dracut's rule), or undefined. */

export function lastParam(cmdline: Cmdline, ...keys: readonly string[]): CmdlineParam | undefined {
  for (let i = cmdline.params.length - 1; i >= 0; i--) {
    const param = cmdline.params[i];
    if (param && keys.includes(param.key)) return param;
  }
  return undefined;
}
