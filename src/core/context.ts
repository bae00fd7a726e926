import type { Config } from '../config';
import type { Events } from './events';
import type { Log } from './log';
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
