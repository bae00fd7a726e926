import type { Config } from './config';
import type { Events } from './events';
import type { LoadResult, ModuleLoader } from './kmod/loader';
import type { Log } from './log';
import type { StageName } from './stage-names';
import type { System } from './system';

/** What the stages find out and pass on to the stages after them. */
interface BootState {
  /** Arguments for the new init, from the kernel (e.g. a runlevel). */
  initArgs: readonly string[];
  /** The kernel's environment for /init, passed on unchanged to the new init. */
  initEnv: Readonly<Record<string, string>>;
  /** The block device holding the root filesystem: root=, or the loop device of loop=. */
  rootDevice: string | null;
  rootFsType: string | null;
  /** overlay=dm: the device that takes the snapshot's changes. */
  cowDevice: string | null;
  /** The module loader of the drivers stage; later stages load through it. */
  loader: ModuleLoader | null;
  /** The union's and modules='s modules, loading while the root is looked for. */
  requiredModules: Promise<readonly LoadResult[]>;
  /** Asks for a coldplug pass, for devices that appeared since the last; resolves when it is done. */
  coldplug: () => Promise<void>;
  /** Work left running (coldplug); awaited before the handoff, so nothing loads across switch_root. */
  background: Promise<void>[];
  /** printk_devkmsg as it was before we lifted the rate limit; restored at handoff. */
  devkmsgBefore: string | null;
}

export interface Context {
  readonly sys: System;
  readonly log: Log;
  /** What the stage machine and its services report; the log is one observer. */
  readonly events: Events;
  config: Config;
  readonly state: BootState;
}

export interface Stage {
  readonly name: StageName;
  run(ctx: Context): Promise<void>;
}
