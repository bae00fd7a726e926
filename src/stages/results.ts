// What each stage hands to the stages after it, and the stage type that ties
// a stage's input to the stages before it. Here, not beside the context, so
// that a helper that takes ctx does not depend on every stage's output.

import type { STAGE_NAMES, StageName } from '../config/stage-names';
import type { Context } from '../core/context';
import type { Services } from '../kmod/services';
import type { RootFound } from '../storage/find-device';

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

// Mapped over a type parameter, so that a tuple of names gives a tuple of stages.
type StagesFor<Names extends readonly StageName[]> = { readonly [I in keyof Names]: Stage<Names[I]> };

/** One stage for each name of STAGE_NAMES, in its order. */
export type BootStages = StagesFor<typeof STAGE_NAMES>;
