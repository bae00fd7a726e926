// The stage machine: runs the stages in order, logs each with its duration,
// and on a failure reports it and hands over to the rescue path; when that
// returns, the failed stage is tried again. It never gives up and never exits.

import type { Context, Stage } from './context';
import { BootError, showCommand } from './errors';

export interface Failure {
  readonly stage: string;
  readonly error: unknown;
}

export type Rescue = (ctx: Context, failure: Failure) => Promise<void>;

export function describeFailure(failure: Failure): string[] {
  const { error } = failure;
  const lines = [`stage ${failure.stage} failed: ${error instanceof Error ? error.message : String(error)}`];
  if (error instanceof BootError) {
    if (error.detail.command) lines.push(`  command: ${showCommand(error.detail.command)}`);
    if (error.detail.hint) lines.push(`  hint: ${error.detail.hint}`);
  } else if (error instanceof Error && error.stack) {
    lines.push(...error.stack.split('\n').slice(1).map((l) => `  ${l.trim()}`));
  }
  return lines;
}

export async function runStages(stages: readonly Stage[], ctx: Context, rescue: Rescue): Promise<void> {
  let index = 0;
  while (index < stages.length) {
    const stage = stages[index]!;
    const started = ctx.sys.now();
    ctx.log.info(`stage ${stage.name}: start`);
    try {
      await stage.run(ctx);
      ctx.log.info(`stage ${stage.name}: done in ${Math.round(ctx.sys.now() - started)} ms`);
      index++;
    } catch (error) {
      const failure = { stage: stage.name, error };
      for (const line of describeFailure(failure)) ctx.log.error(line);
      ctx.log.error(`stage ${stage.name}: failed after ${Math.round(ctx.sys.now() - started)} ms`);
      await rescue(ctx, failure);
      ctx.log.info(`stage ${stage.name}: trying again`);
    }
  }
}
