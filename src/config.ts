// The boot configuration: defaults, overridden by the image's config file,
// overridden by the kernel command line. Every value is validated before use
// and a bad one is reported with the parameter, the value and what is valid.

import { type Cmdline, lastParam } from './cmdline';
import { parseRootSpec } from './blkid/root-spec';
import { parseSize, showSize, type Size } from './size';
import { BREAK_STAGES, type StageName } from './stage-names';

export const OVERLAY_KINDS = ['unionfs', 'dm', 'overlayfs', 'none'] as const;
export type OverlayKind = (typeof OVERLAY_KINDS)[number];

export const COW_DEVICES = ['tmpfs', 'ram'] as const;
export type CowDevice = (typeof COW_DEVICES)[number];

/** What happens to the other local filesystems of the root's fstab (mounts=). */
export const MOUNT_POLICIES = ['cow', 'ro', 'fstab'] as const;
export type MountPolicy = (typeof MOUNT_POLICIES)[number];

export const EMERGENCY_ACTIONS = ['reboot', 'poweroff', 'halt'] as const;
export type EmergencyAction = (typeof EMERGENCY_ACTIONS)[number];

export interface Config {
  /** The root device (root=): a /dev path, LABEL=, UUID=, PARTUUID=, PARTLABEL= or a /dev/disk/by-* link. */
  readonly root: string | null;
  /** rootwait: wait for the root device for ever. */
  readonly rootwait: boolean;
  readonly rootfstype: string | null;
  readonly rootflags: string | null;
  readonly overlay: OverlayKind;
  /** An image file on the root= medium that holds the root (loop=), e.g. /live/filesystem.squashfs. */
  readonly loop: string | null;
  readonly loopfstype: string | null;
  /** Copy the loop= image into RAM and release the medium. */
  readonly toram: boolean;
  /** overlay=dm: where the snapshot's changes go (cow=). */
  readonly cow: CowDevice;
  /** The size of the copy-on-write space (cowsize=); null: half of RAM. */
  readonly cowsize: Size | null;
  /** overlay=dm: snapshot chunk size in 512-byte sectors (cowchunk=). */
  readonly cowchunk: number;
  /** overlay=none: mount the root read-write (the kernel's rw). */
  readonly rw: boolean;
  /** The fstab's other local filesystems: a RAM overlay each (cow), read-only (ro), or as the fstab says (fstab). */
  readonly mounts: MountPolicy;
  /** swap: let the booted system use the swap of the root's fstab (overlayroot's swap=1). */
  readonly swap: boolean;
  /** Extra modules to load (modules=a,b,c). */
  readonly modules: readonly string[];
  /** Modules never to load (modprobe.blacklist=a,b). */
  readonly blacklist: readonly string[];
  /** How many modules load at once (rd.driver.jobs=); 1 loads them one at a time. */
  readonly jobs: number;
  /** The init to start in the new root (init=). */
  readonly init: string;
  /** Seconds to wait for the root device (rootdelay=). */
  readonly rootdelay: number;
  readonly quiet: boolean;
  /** rd.shell: a rescue shell on failure; without it, rd.emergency. */
  readonly shell: boolean;
  /** rd.emergency: what to do after a failure when there is no shell. */
  readonly emergency: EmergencyAction;
  /** rd.break: stages to stop before, with a shell. */
  readonly breakAt: readonly StageName[];
  /** rd.debug: every command on the console too. */
  readonly debug: boolean;
  /** The kernel's panic=: seconds before rd.emergency acts; 0 waits for ever. */
  readonly panic: number | null;
  /** A scrypt hash (node build.mjs hash-password); the rescue shell asks for it. Config file only. */
  readonly rescuePassword: string | null;
}

export const DEFAULT_CONFIG: Config = {
  root: null,
  rootwait: false,
  rootfstype: null,
  rootflags: null,
  overlay: 'unionfs',
  loop: null,
  loopfstype: null,
  toram: false,
  cow: 'tmpfs',
  cowsize: null,
  cowchunk: 8,
  rw: false,
  mounts: 'cow',
  swap: false,
  modules: [],
  blacklist: [],
  jobs: 8,
  init: '/sbin/init',
  rootdelay: 30,
  quiet: false,
  shell: true,
  emergency: 'reboot',
  breakAt: [],
  debug: false,
  panic: null,
  rescuePassword: null,
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

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(expected: string): Parsed<T> => ({ ok: false, expected });

interface Setting<K extends keyof Config> {
  readonly key: K;
  /** The name on the command line and in the config file. */
  readonly param: string;
  /** false for what must not be set from the boot loader. */
  readonly onCmdline: boolean;
  /** `text` is null for a bare flag. */
  fromText(text: string | null): Parsed<Config[K]>;
  fromJson(value: unknown): Parsed<Config[K]>;
}

const NAME = /^[A-Za-z0-9_-]+$/;
const FSTYPE = /^[a-z0-9_.]+$/;
const SCRYPT_HASH = /^scrypt:\d+:\d+:\d+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

const EXPECT = {
  root: 'a device path such as /dev/sda2, or LABEL=, UUID=, PARTUUID=, PARTLABEL=',
  jobs: 'a whole number from 1 to 64, such as 8',
  fstype: 'a filesystem type such as ext4, squashfs or iso9660',
  modules: 'module names separated by commas, such as virtio_blk,ext4',
  path: 'an absolute path such as /sbin/init',
  seconds: 'a whole number of seconds, such as 30',
  flag: 'no value, or 0 or 1',
  panic: 'a whole number of seconds, such as 10 (0 waits for ever, below 0 acts at once)',
  breakAt: `no value (before handoff), or stage names separated by commas: ${BREAK_STAGES.join(', ')}`,
  loop: 'an absolute path on the medium, such as /live/filesystem.squashfs',
  size: 'a size such as 512M, 2G or 25% (of RAM)',
  chunk: 'a power of two from 1 to 2048 (sectors of 512 bytes), such as 8',
  password: 'a hash made by "node build.mjs hash-password" (scrypt:N:r:p:salt:hash)',
} as const;

function oneOf<T extends string>(values: readonly T[]) {
  return (text: string): Parsed<T> => {
    const found = values.find((v) => v === text);
    return found ? ok(found) : bad(`one of ${values.join(', ')}`);
  };
}

function matching(pattern: RegExp, expected: string) {
  return (text: string): Parsed<string> => (pattern.test(text) ? ok(text) : bad(expected));
}

function moduleList(items: readonly string[]): Parsed<readonly string[]> {
  const names = items.map((s) => s.trim()).filter((s) => s !== '');
  return names.every((n) => NAME.test(n)) ? ok(names) : bad(EXPECT.modules);
}

function integer(min: number, expected: string, max = Number.POSITIVE_INFINITY) {
  return (text: string): Parsed<number> => (/^-?\d{1,6}$/.test(text) && Number(text) >= min && Number(text) <= max ? ok(Number(text)) : bad(expected));
}

function breakStages(text: string | null): Parsed<readonly StageName[]> {
  if (text === null || text === '') return ok(['handoff']);
  const names = text.split(',');
  const stages = names.map((n) => BREAK_STAGES.find((s) => s === n));
  return stages.every((s) => s !== undefined) ? ok(stages as StageName[]) : bad(EXPECT.breakAt);
}

function flag(text: string | null): Parsed<boolean> {
  if (text === null || text === '1') return ok(true);
  return text === '0' ? ok(false) : bad(EXPECT.flag);
}

type TextParse<T> = (text: string) => Parsed<T>;

// A setting whose command-line value is required text, and whose JSON value is that text (or null when nullable).
function text<K extends keyof Config>(key: K, param: string, parse: TextParse<Config[K]>, expected: string, nullable = false): Setting<K> {
  return {
    key,
    param,
    onCmdline: true,
    fromText: (t) => (t === null || t === '' ? bad(expected) : parse(t)),
    fromJson: (v) => (nullable && v === null ? ok(null as Config[K]) : typeof v === 'string' ? parse(v) : bad(expected)),
  };
}

function boolean<K extends 'quiet' | 'shell' | 'debug' | 'toram' | 'rw' | 'rootwait' | 'swap'>(key: K, param: string): Setting<K> {
  return {
    key,
    param,
    onCmdline: true,
    fromText: flag as (t: string | null) => Parsed<Config[K]>,
    fromJson: (v) => (typeof v === 'boolean' ? ok(v as Config[K]) : bad('true or false')),
  };
}

function power2(text: string): Parsed<number> {
  const n = Number(text);
  return /^\d{1,4}$/.test(text) && n >= 1 && n <= 2048 && (n & (n - 1)) === 0 ? ok(n) : bad(EXPECT.chunk);
}

function size(text: string): Parsed<Size | null> {
  const parsed = parseSize(text);
  return parsed ? ok(parsed) : bad(EXPECT.size);
}

function moduleSetting<K extends 'modules' | 'blacklist'>(key: K, param: string): Setting<K> {
  return {
    key,
    param,
    onCmdline: true,
    fromText: (t) => (t === null || t === '' ? bad(EXPECT.modules) : (moduleList(t.split(',')) as Parsed<Config[K]>)),
    fromJson: (v) =>
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? (moduleList(v) as Parsed<Config[K]>) : bad('a list of module names, such as ["virtio_blk", "ext4"]'),
  };
}

function number<K extends 'rootdelay' | 'panic' | 'cowchunk' | 'jobs'>(key: K, param: string, parse: TextParse<number>, expected: string): Setting<K> {
  return {
    key,
    param,
    onCmdline: true,
    fromText: (t) => (t === null ? bad(expected) : (parse(t) as Parsed<Config[K]>)),
    fromJson: (v) => (typeof v === 'number' ? (parse(String(v)) as Parsed<Config[K]>) : bad(expected)),
  };
}

const SETTINGS: { readonly [K in keyof Config]: Setting<K> } = {
  root: text('root', 'root', (t) => (parseRootSpec(t) ? ok(t) : bad(EXPECT.root)), EXPECT.root, true),
  rootwait: boolean('rootwait', 'rootwait'),
  rootfstype: text('rootfstype', 'rootfstype', matching(FSTYPE, EXPECT.fstype), EXPECT.fstype, true),
  rootflags: text('rootflags', 'rootflags', ok, 'mount options such as noatime', true),
  overlay: text('overlay', 'overlay', oneOf(OVERLAY_KINDS), `one of ${OVERLAY_KINDS.join(', ')}`),
  loop: text('loop', 'loop', matching(/^\/./, EXPECT.loop), EXPECT.loop, true),
  loopfstype: text('loopfstype', 'loopfstype', matching(FSTYPE, EXPECT.fstype), EXPECT.fstype, true),
  toram: boolean('toram', 'toram'),
  cow: text('cow', 'cow', oneOf(COW_DEVICES), `one of ${COW_DEVICES.join(', ')}`),
  cowsize: {
    key: 'cowsize',
    param: 'cowsize',
    onCmdline: true,
    fromText: (t) => (t === null || t === '' ? bad(EXPECT.size) : size(t)),
    fromJson: (v) => (v === null ? ok(null) : typeof v === 'string' ? size(v) : bad(EXPECT.size)),
  },
  cowchunk: number('cowchunk', 'cowchunk', power2, EXPECT.chunk),
  rw: boolean('rw', 'rw'),
  mounts: text('mounts', 'mounts', oneOf(MOUNT_POLICIES), `one of ${MOUNT_POLICIES.join(', ')}`),
  swap: boolean('swap', 'swap'),
  modules: moduleSetting('modules', 'modules'),
  blacklist: moduleSetting('blacklist', 'modprobe.blacklist'),
  jobs: number('jobs', 'rd.driver.jobs', integer(1, EXPECT.jobs, 64), EXPECT.jobs),
  init: text('init', 'init', matching(/^\//, EXPECT.path), EXPECT.path),
  rootdelay: number('rootdelay', 'rootdelay', integer(0, EXPECT.seconds), EXPECT.seconds),
  quiet: boolean('quiet', 'quiet'),
  shell: boolean('shell', 'rd.shell'),
  emergency: text('emergency', 'rd.emergency', oneOf(EMERGENCY_ACTIONS), `one of ${EMERGENCY_ACTIONS.join(', ')}`),
  breakAt: {
    key: 'breakAt',
    param: 'rd.break',
    onCmdline: true,
    fromText: breakStages,
    fromJson: (v) => (typeof v === 'string' ? breakStages(v) : bad(EXPECT.breakAt)),
  },
  debug: boolean('debug', 'rd.debug'),
  panic: number('panic', 'panic', integer(-999999, EXPECT.panic), EXPECT.panic),
  rescuePassword: { ...text('rescuePassword', 'rd.rescue-password', matching(SCRYPT_HASH, EXPECT.password), EXPECT.password, true), onCmdline: false },
};

const ALL_SETTINGS = Object.values(SETTINGS) as Setting<keyof Config>[];
const PARAMS = ALL_SETTINGS.map((s) => s.param);

/**
 * The kernel hands every bare word it does not know to init as an argument;
 * our own flags (toram, rw…) are meant for us, not for the new init.
 */
export function initArgsWithoutOurFlags(kernelArgs: readonly string[]): string[] {
  return kernelArgs.filter((arg) => !PARAMS.includes(arg));
}

type MutableConfig = { -readonly [K in keyof Config]: Config[K] };
type Values = Partial<Config>;

function assign<K extends keyof Config>(target: Partial<MutableConfig>, key: K, value: Config[K]): void {
  target[key] = value;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Validates a parsed JSON config file (keys as on the command line); unknown keys are rejected by name. */
export function configFromJson(json: unknown, source: string): { values: Values; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values: Partial<MutableConfig> = {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push({ source, param: '(file)', value: show(json), expected: 'a JSON object such as {"overlay": "unionfs"}' });
    return { values, problems };
  }
  for (const [param, raw] of Object.entries(json)) {
    const setting = ALL_SETTINGS.find((s) => s.param === param);
    if (!setting) {
      problems.push({ source, param, value: show(raw), expected: `a known key: ${PARAMS.join(', ')}` });
      continue;
    }
    const parsed = setting.fromJson(raw);
    if (parsed.ok) assign(values, setting.key, parsed.value);
    else problems.push({ source, param, value: show(raw), expected: parsed.expected });
  }
  return { values, problems };
}

/** Our parameters from the kernel command line; all others belong to someone else and are ignored. */
export function configFromCmdline(cmdline: Cmdline): { values: Values; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const values: Partial<MutableConfig> = {};
  for (const setting of ALL_SETTINGS) {
    const param = lastParam(cmdline, setting.param);
    if (!param) continue;
    if (!setting.onCmdline) {
      problems.push({ source: 'command line', param: setting.param, value: param.value ?? '', expected: 'nothing: it can only be set in the image config' });
      continue;
    }
    const parsed = setting.fromText(param.value);
    if (parsed.ok) assign(values, setting.key, parsed.value);
    else problems.push({ source: 'command line', param: setting.param, value: param.value ?? '', expected: parsed.expected });
  }
  return { values, problems };
}

/** Defaults, then the image's config, then the command line: the command line wins. */
export function mergeConfig(...layers: Values[]): Config {
  return Object.assign({}, DEFAULT_CONFIG, ...layers) as Config;
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

/** The normalized form packed into the image: only the keys the user set, validated, named as on the command line. */
export function normalizeConfigText(textIn: string, source: string): { json: string; problems: ConfigProblem[] } {
  const { values, problems } = configFromText(textIn, source);
  if (problems.some((p) => p.param === '(file)')) return { json: '', problems };
  const normal: Record<string, unknown> = {};
  for (const setting of ALL_SETTINGS) {
    if (!(setting.key in values)) continue;
    normal[setting.param] = setting.key === 'breakAt' ? values.breakAt?.join(',') : setting.key === 'cowsize' && values.cowsize ? showSize(values.cowsize) : values[setting.key];
  }
  return { json: `${JSON.stringify(normal, null, 2)}\n`, problems };
}
