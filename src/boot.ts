import { DEFAULT_CONFIG } from './config';
import type { Context } from './context';
import { Log } from './log';
import { describeFailure, runStages } from './machine';
import { rescueShell } from './rescue';
import { BOOT_STAGES } from './stages';
import type { System } from './system';

/** Runs the boot as PID 1. Resolves only if every path failed to hand over, which the caller must not turn into an exit. */
export async function boot(sys: System, kernelArgs: readonly string[], kernelEnv: Readonly<Record<string, string>>): Promise<void> {
  const log = new Log(sys);
  const ctx: Context = {
    sys,
    log,
    config: DEFAULT_CONFIG,
    state: { initArgs: kernelArgs, initEnv: kernelEnv, rootFsType: null, devkmsgBefore: null },
  };
  log.info(`cowboot starting as PID 1, kernel arguments for init: ${kernelArgs.join(' ') || '(none)'}`);
  // A bug that escapes the stage machine must still end in the rescue shell, never in an exit.
  const onEscaped = (error: unknown) => {
    const failure = { stage: 'internal', error };
    for (const line of describeFailure(failure)) log.error(line);
    void rescueShell(ctx, failure);
  };
  process.on('uncaughtException', onEscaped);
  process.on('unhandledRejection', onEscaped);
  await runStages(BOOT_STAGES, ctx, rescueShell);
}
