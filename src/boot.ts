import { DEFAULT_CONFIG } from './config';
import type { Context } from './core/context';
import { describeEvent, Events } from './core/events';
import { Log } from './core/log';
import { describeFailure } from './core/errors';
import { runStages } from './core/machine';
import { rescuePolicy } from './core/rescue';
import { BOOT_STAGES } from './stages';
import type { System } from './sys/system';

export function createContext(sys: System, kernelArgs: readonly string[], kernelEnv: Readonly<Record<string, string>>): Context {
  const log = new Log(sys);
  const events = new Events();
  events.on((event) => {
    const { level, text } = describeEvent(event);
    log[level](text);
  });
  return { sys, log, events, config: DEFAULT_CONFIG, kernel: { args: kernelArgs, env: kernelEnv } };
}

/** Runs the boot as PID 1. On a real machine it ends in execve; it resolves only under a fake system. */
export async function boot(ctx: Context): Promise<void> {
  ctx.log.info(`cowboot starting as PID 1, kernel arguments for init: ${ctx.kernel.args.join(' ') || '(none)'}`);
  await runStages(BOOT_STAGES, ctx, rescuePolicy);
}

/** For errors that escape the stage machine (a bug): the failure policy, never an exit. */
export function onEscapedError(ctx: Context): (error: unknown) => void {
  return (error) => {
    const failure = { stage: 'internal', error } as const;
    for (const line of describeFailure(failure)) ctx.log.error(line);
    void rescuePolicy.onFailure(ctx, failure);
  };
}
