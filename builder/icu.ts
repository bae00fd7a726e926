// --icu: the ICU data Node's official binary embeds (icudtNN_dat, 33 MB
// of its 116, a fifth of the runtime's squashfs image), trimmed in place
// with ICU's own icupkg. cowboot itself formats nothing through Intl; what each
// mode keeps is what a program in the runtime could still notice:
// - full: the data as Node ships it.
// - english: every locale's data but English's goes (dates, numbers,
//   collation, names of other locales fall back to English); the
//   converters, normalization, break rules and their dictionaries stay,
//   so every encoding TextDecoder knows still decodes and English output
//   is the same byte for byte.
// - minimal: english, and the legacy converters too: TextDecoder then
//   knows UTF-8, UTF-16 and Latin-1 only ('shift_jis' throws).
// The package is rewritten shorter at the same address, the rest zeroed
// (squashfs compresses zeros to nothing); the binary is otherwise the
// official one, byte for byte.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findObjects } from './elf';
import { BuildError, findTool, TOOLS } from './host';

export const ICU_MODES = ['full', 'english', 'minimal'] as const;
export type IcuMode = (typeof ICU_MODES)[number];
/** The default, for Node: cowboot needs neither other languages' data nor the legacy converters, and every VM test boots it. */
export const DEFAULT_ICU = 'minimal' satisfies IcuMode;

/** What the image records of a trim (in RUNTIME_RECORD). */
export interface IcuTrim {
  readonly mode: Exclude<IcuMode, 'full'>;
  /** The package's name in ICU, e.g. icudt78l. */
  readonly data: string;
  readonly items: number;
  readonly removed: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

// A locale's own resource: a language of two or three letters, then
// script, region or variant parts (de_.res and de__PHONEBOOK.res are
// German collation variants). res_index lists the locales, and stays.
const LOCALE_ITEM = /^([a-z]{2,3})(_[A-Za-z0-9]*)*\.res$/;

/** The items of ICU's package (as icupkg -l lists them) that `mode` removes. */
export function icuRemovals(items: readonly string[], mode: IcuMode): string[] {
  const foreignLocale = (item: string) => {
    const [tree, name] = item.includes('/') ? item.split('/', 2) : ['', item];
    const language = LOCALE_ITEM.exec(name!)?.[1];
    // The break rules' locale files choose the dictionaries that split
    // Chinese or Thai words in any locale; they are small, so they stay.
    return language !== undefined && language !== 'en' && name !== 'res_index.res' && tree !== 'brkitr';
  };
  switch (mode) {
    case 'full':
      return [];
    case 'english':
      return items.filter(foreignLocale);
    case 'minimal':
      return items.filter((item) => foreignLocale(item) || item.endsWith('.cnv'));
    default: {
      const never: never = mode;
      throw new Error(`unknown ICU mode ${String(never)}`);
    }
  }
}

// Run on the trimmed binary at build time: an English date, and a German
// one that must fall back to English rather than abort, as V8 does when
// ICU fails to find data a locale list still promises.
const SMOKE = `const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5)); console.log([d.toLocaleString('en-US', { timeZone: 'UTC' }), new Intl.DateTimeFormat('de-DE', { timeZone: 'UTC' }).format(d), new TextDecoder('utf-8').decode(new Uint8Array([0xc3, 0xa9]))].join('|'))`;
const SMOKE_EXPECTED = '1/2/2026, 3:04:05 AM|1/2/2026|é';

/** Writes `binary` with its ICU data trimmed to `mode` as `output`; returns what was done. */
export function trimIcu(binary: string, mode: Exclude<IcuMode, 'full'>, output: string): IcuTrim {
  const icupkg = findTool(TOOLS.icupkg);
  const bytes = readFileSync(binary);
  const found = findObjects(bytes, /^icudt\d+_dat$/);
  if (found.length !== 1) throw new BuildError(`--icu ${mode}: ${binary} has ${found.length} ICU data objects (icudtNN_dat) where one was expected; build with --icu full`);
  const icu = found[0]!;
  // icupkg names items after the file, and ICU finds them by that prefix: icudt78l/af.res.
  const data = `${icu.name.replace(/_dat$/, '')}l`;
  const work = mkdtempSync(join(tmpdir(), 'cowboot-icu-'));
  try {
    mkdirSync(join(work, 'in'));
    mkdirSync(join(work, 'out'));
    const input = join(work, 'in', `${data}.dat`);
    const trimmed = join(work, 'out', `${data}.dat`);
    writeFileSync(input, bytes.subarray(icu.offset, icu.offset + icu.size));
    const items = execFileSync(icupkg, ['-l', input], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim().split('\n');
    const removals = icuRemovals(items, mode);
    writeFileSync(join(work, 'remove.txt'), `${removals.join('\n')}\n`);
    execFileSync(icupkg, ['-r', join(work, 'remove.txt'), input, trimmed], { stdio: ['ignore', 'ignore', 'pipe'] });
    const package_ = readFileSync(trimmed);
    if (package_.length > icu.size) throw new BuildError(`--icu ${mode}: icupkg made the ICU data larger (${package_.length} bytes, from ${icu.size})`);
    bytes.fill(0, icu.offset, icu.offset + icu.size);
    package_.copy(bytes, icu.offset);
    const tmp = `${output}.tmp-${process.pid}`;
    writeFileSync(tmp, bytes, { mode: 0o755 });
    const smoke = execFileSync(tmp, ['-e', SMOKE], { encoding: 'utf8', env: { TZ: 'UTC', LANG: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    if (smoke !== SMOKE_EXPECTED) throw new BuildError(`--icu ${mode}: the trimmed runtime printed ${JSON.stringify(smoke)}, not ${JSON.stringify(SMOKE_EXPECTED)}; build with --icu full`);
    renameSync(tmp, output);
    return { mode, data, items: items.length, removed: removals.length, bytesBefore: icu.size, bytesAfter: package_.length };
  } catch (error) {
    rmSync(`${output}.tmp-${process.pid}`, { force: true });
    if (error instanceof BuildError) throw error;
    throw new BuildError(`--icu ${mode}: trimming ICU's data in ${binary} failed: ${(error as Error).message}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
