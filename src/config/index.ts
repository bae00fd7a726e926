// The boot configuration: defaults, overridden by the image's config file,
// overridden by the kernel command line. Every value is validated before use
// and a bad one is reported with the parameter, the value and what is valid.
// The settings themselves are the rows of config/settings.ts.

import { allParams, type Cmdline, lastParam } from '../formats/cmdline';
import { type Config, DEFAULT_CONFIG, KEYS, type Key, ROWS, type Setting } from './settings';

export { type Config, DEFAULT_CONFIG, type EmergencyAction } from './settings';

export interface ConfigProblem {
  /** Where the value came from: "command line" or the config file's path. */
  readonly source: string;
  readonly param: string;
  readonly value: string;
  readonly expected: string;
}

export function describeProblem(p: ConfigProblem): string {
  return `${p.source}: ${p.param}=${p.value} is not valid: expected ${p.expected}`;
}

type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

function checked<T>(row: Setting<T>, text: string): Parsed<T> {
  const value = row.parse(text);
  return value === undefined ? { ok: false, expected: row.expected } : { ok: true, value };
}

function fromCmdline<T>(row: Setting<T>, value: string | null): Parsed<T> {
  const text = value ?? row.bare;
  if (text === undefined || (text === '' && row.bare === undefined)) return { ok: false, expected: row.expected };
  return checked(row, text);
}

function fromJson<T>(row: Setting<T>, json: unknown): Parsed<T> {
  const read = row.json(json, row.expected);
  if (!read.ok) return read;
  return read.text === null ? { ok: true, value: row.default } : checked(row, read.text);
}

const PARAMS = KEYS.map((key) => ROWS[key].param);

/**
 * The kernel hands every bare word it does not know to init as an argument;
 * our own flags (toram, rw…) are meant for us, not for the new init.
 */
export function initArgsWithoutOurFlags(kernelArgs: readonly string[]): string[] {
  return kernelArgs.filter((arg) => !PARAMS.includes(arg));
}

type Values = Partial<Config>;
type Found = { values: { -readonly [K in Key]?: Config[K] }; problems: ConfigProblem[] };

// Generic in the key, so that the value read by a row goes to that row's own field.
function record<K extends Key>(found: Found, key: K, read: <T>(row: Setting<T>) => Parsed<T>, problem: Omit<ConfigProblem, 'expected'>): void {
  const parsed = read(ROWS[key]);
  if (parsed.ok) found.values[key] = parsed.value;
  else found.problems.push({ ...problem, expected: parsed.expected });
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Validates a parsed JSON config file (keys as on the command line); unknown keys are rejected by name. */
export function configFromJson(json: unknown, source: string): { values: Values; problems: ConfigProblem[] } {
  const found: Found = { values: {}, problems: [] };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    found.problems.push({ source, param: '(file)', value: show(json), expected: 'a JSON object such as {"overlay": "unionfs"}' });
    return found;
  }
  for (const [param, raw] of Object.entries(json)) {
    const key = KEYS.find((k) => ROWS[k].param === param);
    if (key) record(found, key, (row) => fromJson(row, raw), { source, param, value: show(raw) });
    else found.problems.push({ source, param, value: show(raw), expected: `a known key: ${PARAMS.join(', ')}` });
  }
  return found;
}

/** Our parameters from the kernel command line; all others belong to someone else and are ignored. */
export function configFromCmdline(cmdline: Cmdline): { values: Values; problems: ConfigProblem[] } {
  const found: Found = { values: {}, problems: [] };
  for (const key of KEYS) {
    const { param, fileOnly, aliases = [], repeats } = ROWS[key];
    const all = repeats ? allParams(cmdline, param, ...aliases) : [];
    const given = repeats ? (all.length > 0 ? { key: param, value: all.map((p) => p.value ?? '').join(',') } : undefined) : lastParam(cmdline, param, ...aliases);
    if (!given) continue;
    const problem = { source: 'command line', param: given.key, value: given.value ?? '' };
    if (fileOnly) found.problems.push({ ...problem, expected: 'nothing: it can only be set in the image config' });
    else record(found, key, (row) => fromCmdline(row, given.value), problem);
  }
  return found;
}

/** Defaults, then the image's config, then the command line: the command line wins. */
export function mergeConfig(...layers: Values[]): Config {
  return layers.reduce<Config>((config, layer) => ({ ...config, ...layer }), DEFAULT_CONFIG);
}

/** A config file's text: JSON, then validated as configFromJson does. */
export function configFromText(text: string, source: string): { values: Values; problems: ConfigProblem[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { values: {}, problems: [{ source, param: '(file)', value: '', expected: `valid JSON (${(error as Error).message})` }] };
  }
  return configFromJson(parsed, source);
}

// Generic in the key, so that toText is given the value of its own row.
function normalValue<K extends Key>(key: K, value: Config[K]): unknown {
  const { toText } = ROWS[key];
  return value !== null && toText ? toText(value) : value;
}

/** The normalized form packed into the image: only the keys the user set, validated, named as on the command line. */
export function normalizeConfigText(textIn: string, source: string): { json: string; problems: ConfigProblem[] } {
  const { values, problems } = configFromText(textIn, source);
  if (problems.some((p) => p.param === '(file)')) return { json: '', problems };
  const normal: Record<string, unknown> = {};
  for (const key of KEYS) {
    const value = values[key];
    if (value !== undefined) normal[ROWS[key].param] = normalValue(key, value);
  }
  return { json: `${JSON.stringify(normal, null, 2)}\n`, problems };
}
