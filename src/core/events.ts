// What the stage machine and its services report as the boot goes. The log
// writes each event as one line, plan mode follows the stages by them, and
// the benchmarks read them back from a real boot's console with the same row
// that wrote them: the text is made and parsed in one place.

import type { Level } from './log';
import { describeFailure, type Failure } from './errors';
import { STAGE_NAMES, type StageName } from '../config/stage-names';

type BootEvent =
  | { readonly kind: 'stage-start'; readonly stage: StageName }
  | { readonly kind: 'stage-done'; readonly stage: StageName; readonly ms: number }
  | { readonly kind: 'stage-failed'; readonly stage: StageName; readonly ms: number; readonly failure: Failure }
  | { readonly kind: 'stage-retry'; readonly stage: StageName }
  | { readonly kind: 'break'; readonly stage: StageName }
  /** The drivers of the devices present at start are in (coldplug's first pass). */
  | { readonly kind: 'coldplug-done'; readonly ms: number }
  /** A pass that assembled volumes (RAID arrays, LUKS containers, LVM volumes): what it made, and how long it took, a passphrase's typing included. */
  | { readonly kind: 'volumes-assembled'; readonly made: readonly string[]; readonly ms: number }
  /** The network is up for what the boot fetches: the interface, its address and how it came, and the time from the wait for the interface on. */
  | { readonly kind: 'network-up'; readonly device: string; readonly address: string; readonly how: string; readonly ms: number }
  /** The image is in RAM: its URL, its size, how many times the download was resumed, and how long it took. */
  | { readonly kind: 'image-fetched'; readonly url: string; readonly bytes: number; readonly resumes: number; readonly ms: number }
  /** An NBD server's export is the root's block device: the server, the export, the device, its size, and the time nbd-client took. */
  | { readonly kind: 'nbd-connected'; readonly server: string; readonly name: string; readonly device: string; readonly bytes: number; readonly ms: number }
  /** An NFS server's export is mounted read-only as the root: the server and path named, the address it was reached at, and the time the mount took. */
  | { readonly kind: 'nfs-mounted'; readonly server: string; readonly path: string; readonly address: string; readonly ms: number };

type EventOf<K extends BootEvent['kind']> = Extract<BootEvent, { kind: K }>;

interface Row<K extends BootEvent['kind']> {
  readonly level: Level;
  text(event: EventOf<K>): string;
  /** The event back from its text, for the events that carry what a benchmark measures. */
  readonly parse?: (line: string) => EventOf<K> | null;
}

const STAGE = `(${STAGE_NAMES.join('|')})`;
const stageNamed = (name: string | undefined) => STAGE_NAMES.find((s) => s === name);

function parsed<K extends BootEvent['kind']>(pattern: RegExp, build: (m: RegExpExecArray) => EventOf<K> | null) {
  return (line: string) => {
    const m = pattern.exec(line);
    return m ? build(m) : null;
  };
}

// A mapped type over the kinds: an event without its row does not compile.
const ROWS: { readonly [K in BootEvent['kind']]: Row<K> } = {
  'stage-start': { level: 'info', text: (e) => `stage ${e.stage}: start` },
  'stage-done': {
    level: 'info',
    text: (e) => `stage ${e.stage}: done in ${e.ms} ms`,
    parse: parsed(new RegExp(`stage ${STAGE}: done in (\\d+) ms`), (m) => {
      const stage = stageNamed(m[1]);
      return stage ? { kind: 'stage-done', stage, ms: Number(m[2]) } : null;
    }),
  },
  'stage-failed': { level: 'error', text: (e) => [...describeFailure(e.failure), `stage ${e.stage}: failed after ${e.ms} ms`].join('\n') },
  'stage-retry': { level: 'info', text: (e) => `stage ${e.stage}: trying again` },
  break: { level: 'info', text: (e) => `rd.break: stopping before stage ${e.stage}` },
  'coldplug-done': {
    level: 'info',
    text: (e) => `coldplug: the drivers of the devices present at start are in, after ${e.ms} ms`,
    parse: parsed(/coldplug: the drivers of the devices present at start are in, after (\d+) ms/, (m) => ({ kind: 'coldplug-done', ms: Number(m[1]) })),
  },
  'volumes-assembled': {
    level: 'info',
    text: (e) => `volumes: ${e.made.join('; ')} assembled in ${e.ms} ms`,
    parse: parsed(/volumes: (.+) assembled in (\d+) ms/, (m) => ({ kind: 'volumes-assembled', made: m[1]!.split('; '), ms: Number(m[2]) })),
  },
  'network-up': {
    level: 'info',
    text: (e) => `network: ${e.device} has ${e.address} (${e.how}), after ${e.ms} ms`,
    parse: parsed(/network: (\S+) has (\S+) \((\w+)\), after (\d+) ms/, (m) => ({ kind: 'network-up', device: m[1]!, address: m[2]!, how: m[3]!, ms: Number(m[4]) })),
  },
  'image-fetched': {
    level: 'info',
    text: (e) => `fetch: ${e.url}: ${e.bytes} bytes in RAM after ${e.ms} ms, resumed ${e.resumes} times`,
    parse: parsed(/fetch: (\S+): (\d+) bytes in RAM after (\d+) ms, resumed (\d+) times/, (m) => ({ kind: 'image-fetched', url: m[1]!, bytes: Number(m[2]), ms: Number(m[3]), resumes: Number(m[4]) })),
  },
  'nbd-connected': {
    level: 'info',
    text: (e) => `nbd: ${e.server} export ${e.name} is ${e.device}, ${e.bytes} bytes read-only, connected in ${e.ms} ms`,
    parse: parsed(/nbd: (\S+) export (\S+) is (\S+), (\d+) bytes read-only, connected in (\d+) ms/, (m) => ({ kind: 'nbd-connected', server: m[1]!, name: m[2]!, device: m[3]!, bytes: Number(m[4]), ms: Number(m[5]) })),
  },
  'nfs-mounted': {
    level: 'info',
    text: (e) => `nfs: ${e.server}:${e.path} mounted read-only from ${e.address} in ${e.ms} ms`,
    parse: parsed(/nfs: ([^\s:]+):(\S+) mounted read-only from (\S+) in (\d+) ms/, (m) => ({ kind: 'nfs-mounted', server: m[1]!, path: m[2]!, address: m[3]!, ms: Number(m[4]) })),
  },
};

function rowOf<K extends BootEvent['kind']>(kind: K): Row<K> {
  return ROWS[kind];
}

/** The log line of an event, and its level. */
export function describeEvent(event: BootEvent): { level: Level; text: string } {
  const row = rowOf(event.kind);
  // The row is the one for event.kind; TypeScript cannot tie the two unions together.
  return { level: row.level, text: (row.text as (e: BootEvent) => string)(event) };
}

/** Every event of `kind` in a console or log text, in order (the benchmarks read a real boot with this). */
export function eventsIn<K extends 'stage-done' | 'coldplug-done' | 'volumes-assembled' | 'network-up' | 'image-fetched' | 'nbd-connected' | 'nfs-mounted'>(text: string, kind: K): EventOf<K>[] {
  const parse = rowOf(kind).parse;
  if (!parse) return [];
  return text.split('\n').flatMap((line) => parse(line) ?? []);
}

type Observer = (event: BootEvent) => void;

/** Where events go: every observer sees every event, in order. */
export class Events {
  private readonly observers: Observer[] = [];

  on(observer: Observer): void {
    this.observers.push(observer);
  }

  emit(event: BootEvent): void {
    for (const observer of this.observers) observer(event);
  }
}
