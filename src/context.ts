import type { Config } from './config';
import type { Log } from './log';
import type { StageName } from './stage-names';
import type { System } from './system';

/** What the stages find out and pass on to the stages after them. */
export interface BootState {
  /** Arguments for the new init, from the kernel (e.g. a runlevel). */
  initArgs: readonly string[];
  /** The kernel's environment for /init, passed on unchanged to the new init. */
  initEnv: Readonly<Record<string, string>>;
  /** The block device holding the root filesystem: root=, or the loop device of loop=. */
  rootDevice: string | null;
  rootFsType: string | null;
  /** overlay=dm: the device that takes the snapshot's changes. */
  cowDevice: string | null;
  /** printk_devkmsg as it was before we lifted the rate limit; restored at handoff. */
  devkmsgBefore: string | null;
}

export interface Context {
  readonly sys: System;
  readonly log: Log;
  config: Config;
  readonly state: BootState;
}

export interface Stage {
  readonly name: StageName;
  run(ctx: Context): Promise<void>;
}
