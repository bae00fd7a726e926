import type { Config } from '../config/index';
import type { Events } from './events';
import type { LoadResult, ModuleLoader } from '../kmod/loader';
import type { Log } from './log';
import type { STAGE_NAMES, StageName } from '../config/stage-names';
import type { System } from '../sys/system';

export interface Context {
  readonly sys: System;
  readonly log: Log;
  /** What the stage machine and its services report; the log is one observer. */
  readonly events: Events;
  config: Config;
  /** What the kernel gave /init: arguments for init (a runlevel), and the environment, passed on unchanged. */
  readonly kernel: { readonly args: readonly string[]; readonly env: Readonly<Record<string, string>> };
}

/** What the drivers stage starts, once, for the stages after it. */
export interface Services {
  readonly loader: ModuleLoader;
  /** The union's and modules='s modules, loading while the root is looked for. */
  readonly requiredModules: Promise<readonly LoadResult[]>;
  /** Asks for a coldplug pass, for devices that appeared since the last; resolves when it is done. */
  coldplug(): Promise<void>;
  /** Work left running (coldplug); awaited before the handoff, so nothing loads across switch_root. */
  readonly background: Promise<void>[];
}

export interface RootFound {
  /** The block device holding the root filesystem: root=, or the loop device of loop=. */
  readonly device: string;
  readonly fsType: string;
}

/** What each stage hands to the stages after it. */
export interface StageResults {
  config: {
    /** The new init's arguments, without our own flags. */
    readonly initArgs: readonly string[];
    /** printk_devkmsg as it was before we lifted the rate limit; restored at handoff. */
    readonly devkmsgBefore: string | null;
  };
  'early-mounts': void;
  drivers: Services;
  root: RootFound;
  /** The device that takes a snapshot's changes, where the union kind has one. */
  cow: { readonly device: string | null };
  union: void;
  fstab: void;
  'move-mounts': void;
  handoff: void;
}

/** The results of the stages that run before N, by name: a stage can read only what is there. */
export type Before<N extends StageName, Names extends readonly StageName[] = typeof STAGE_NAMES> = Names extends readonly [
  infer Head extends StageName,
  ...infer Tail extends readonly StageName[],
]
  ? Head extends N
    ? unknown
    : { readonly [K in Head]: StageResults[Head] } & Before<N, Tail>
  : unknown;

export interface Stage<N extends StageName = StageName> {
  readonly name: N;
  run(ctx: Context, before: Before<N>): Promise<StageResults[N]>;
}

/** A stage as the machine runs it: the results so far in, its own out. */
export interface RunnableStage {
  readonly name: StageName;
  run(ctx: Context, before: Partial<StageResults>): Promise<unknown>;
}

// Mapped over a type parameter, so that a tuple of names gives a tuple of stages.
type StagesFor<Names extends readonly StageName[]> = { readonly [I in keyof Names]: Stage<Names[I]> };

/** One stage for each name of STAGE_NAMES, in its order. */
export type BootStages = StagesFor<typeof STAGE_NAMES>;
