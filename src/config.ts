// The boot configuration: defaults, overridden by the image's config file,
// overridden by the kernel command line. Every value is validated before use
// and a bad one is reported with the parameter, the value and what is valid.

import { type Cmdline, lastParam } from './cmdline';

export const OVERLAY_KINDS = ['unionfs', 'dm', 'overlayfs', 'none'] as const;
export type OverlayKind = (typeof OVERLAY_KINDS)[number];

export interface Config {
  /** The root device (root=). */
  readonly root: string | null;
  readonly rootfstype: string | null;
  readonly rootflags: string | null;
  readonly overlay: OverlayKind;
  /** Extra modules to load (modules=a,b,c). */
  readonly modules: readonly string[];
  /** The init to start in the new root (init=). */
  readonly init: string;
  /** Seconds to wait for the root device (rootdelay=). */
  readonly rootdelay: number;
  readonly quiet: boolean;
}

export const DEFAULT_CONFIG: Config = {
  root: null,
  rootfstype: null,
  rootflags: null,
  overlay: 'unionfs',
  modules: [],
  init: '/sbin/init',
  rootdelay: 30,
  quiet: false,
};

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

interface Setting<K extends keyof Config> {
  readonly key: K;
  fromText(text: string | null): Parsed<Config[K]>;
  fromJson(value: unknown): Parsed<Config[K]>;
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

const NAME = /^[A-Za-z0-9_-]+$/;
const FSTYPE = /^[a-z0-9_.]+$/;

function absolutePath(text: string): Parsed<string> {
  return text.startsWith('/') ? ok(text) : bad('an absolute path such as /sbin/init');
}

function rootDevice(text: string): Parsed<string | null> {
  if (!text.startsWith('/dev/')) return bad('a device path such as /dev/vda or /dev/sda2');
  return ok(text);
}

function fsType(text: string): Parsed<string | null> {
  return FSTYPE.test(text) ? ok(text) : bad('a filesystem type such as ext4, squashfs or iso9660');
}

function overlayKind(text: string): Parsed<OverlayKind> {
  const kind = OVERLAY_KINDS.find((k) => k === text);
  return kind ? ok(kind) : bad(`one of ${OVERLAY_KINDS.join(', ')}`);
}

function moduleList(items: readonly string[]): Parsed<readonly string[]> {
  const names = items.map((s) => s.trim()).filter((s) => s !== '');
  return names.every((n) => NAME.test(n)) ? ok(names) : bad('module names separated by commas, such as virtio_blk,ext4');
}

function seconds(text: string): Parsed<number> {
  return /^\d{1,6}$/.test(text) ? ok(Number(text)) : bad('a whole number of seconds, such as 30');
}

// A parameter given on the command line as `key` alone has no value: those
// that need one say so the same way as for a wrong value.
function withValue<T>(parse: (text: string) => Parsed<T>, expected: string) {
  return (text: string | null): Parsed<T> => (text === null || text === '' ? bad(expected) : parse(text));
}

function jsonString<T>(parse: (text: string) => Parsed<T>, expected: string) {
  return (value: unknown): Parsed<T> => (typeof value === 'string' ? parse(value) : bad(expected));
}

function textSetting<K extends keyof Config>(key: K, parse: (text: string) => Parsed<Config[K]>, expected: string, nullable: boolean): Setting<K> {
  return {
    key,
    fromText: withValue(parse, expected),
    fromJson: (value) => (nullable && value === null ? ok(null as Config[K]) : jsonString(parse, expected)(value)),
  };
}

const SETTINGS: { readonly [K in keyof Config]: Setting<K> } = {
  root: textSetting('root', rootDevice, 'a device path such as /dev/vda or /dev/sda2', true),
  rootfstype: textSetting('rootfstype', fsType, 'a filesystem type such as ext4, squashfs or iso9660', true),
  rootflags: textSetting('rootflags', (t) => ok(t), 'mount options such as noatime', true),
  overlay: textSetting('overlay', overlayKind, `one of ${OVERLAY_KINDS.join(', ')}`, false),
  modules: {
    key: 'modules',
    fromText: withValue((t) => moduleList(t.split(',')), 'module names separated by commas, such as virtio_blk,ext4'),
    fromJson: (v) =>
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? moduleList(v) : bad('a list of module names, such as ["virtio_blk", "ext4"]'),
  },
  init: textSetting('init', absolutePath, 'an absolute path such as /sbin/init', false),
  rootdelay: {
    key: 'rootdelay',
    fromText: withValue(seconds, 'a whole number of seconds, such as 30'),
    fromJson: (v) => (typeof v === 'number' ? seconds(String(v)) : bad('a whole number of seconds, such as 30')),
  },
  quiet: {
    key: 'quiet',
    // The kernel's own `quiet` flag; `quiet=0` turns it off again.
    fromText: (t) => (t === null || t === '1' ? ok(true) : t === '0' ? ok(false) : bad('no value (quiet), or 0 or 1')),
    fromJson: (v) => (typeof v === 'boolean' ? ok(v) : bad('true or false')),
  },
};

const KEYS = Object.keys(SETTINGS) as (keyof Config)[];

function isKey(key: string): key is keyof Config {
  return (KEYS as string[]).includes(key);
}

type MutableConfig = { -readonly [K in keyof Config]: Config[K] };

function assign<K extends keyof Config>(target: MutableConfig, key: K, value: Config[K]): void {
  target[key] = value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Validates a parsed JSON config file; unknown keys are rejected by name. */
export function configFromJson(json: unknown, source: string): { values: Partial<Config>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values: Partial<MutableConfig> = {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push({ source, param: '(file)', value: show(json), expected: 'a JSON object such as {"overlay": "unionfs"}' });
    return { values, problems };
  }
  for (const [key, raw] of Object.entries(json)) {
    if (!isKey(key)) {
      problems.push({ source, param: key, value: show(raw), expected: `a known key: ${KEYS.join(', ')}` });
      continue;
    }
    const parsed = SETTINGS[key].fromJson(raw);
    if (parsed.ok) assign(values as MutableConfig, key, parsed.value);
    else problems.push({ source, param: key, value: show(raw), expected: parsed.expected });
  }
  return { values, problems };
}

/** Our parameters from the kernel command line; all others belong to someone else and are ignored. */
export function configFromCmdline(cmdline: Cmdline): { values: Partial<Config>; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values: Partial<MutableConfig> = {};
  for (const key of KEYS) {
    const param = lastParam(cmdline, key);
    if (!param) continue;
    const parsed = SETTINGS[key].fromText(param.value);
    if (parsed.ok) assign(values as MutableConfig, key, parsed.value);
    else problems.push({ source: 'command line', param: key, value: param.value ?? '', expected: parsed.expected });
  }
  return { values, problems };
}

/** Defaults, then the image's config, then the command line: the command line wins. */
export function mergeConfig(...layers: Partial<Config>[]): Config {
  return Object.assign({}, DEFAULT_CONFIG, ...layers) as Config;
}

/** The normalized form packed into the image: only the keys the user set, validated. */
export function normalizeConfigText(text: string, source: string): { json: string; problems: ConfigProblem[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return { json: '', problems: [{ source, param: '(file)', value: '', expected: `valid JSON (${(error as Error).message})` }] };
  }
  const { values, problems } = configFromJson(parsed, source);
  return { json: `${JSON.stringify(values, null, 2)}\n`, problems };
}
