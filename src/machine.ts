// The stage machine: runs the stages in order, logs each with its duration,
// stops before the stages named by rd.break=, and on a failure reports it and
// hands over to the failure policy; when that returns, the failed stage is
// tried again. It never gives up and never exits.

import type { Context, Stage } from './context';
import { BootError, showCommand } from './errors';
import type { StageName } from './stage-names';

export interface Failure {
  readonly stage: StageName | 'internal';
  readonly error: unknown;
}

export interface Policy {
  /** After a failure: returns when the stage should be tried again. */
  onFailure(ctx: Context, failure: Failure): Promise<void>;
  /** rd.break=: returns when the boot should go on. */
  onBreak(ctx: Context, stage: StageName): Promise<void>;
}

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

export async function runStages(stages: readonly Stage[], ctx: Context, policy: Policy): Promise<void> {
  const brokenAt = new Set<StageName>();
  let index = 0;
  while (index < stages.length) {
    const stage = stages[index]!;
    if (ctx.config.breakAt.includes(stage.name) && !brokenAt.has(stage.name)) {
      brokenAt.add(stage.name);
      ctx.log.info(`rd.break: stopping before stage ${stage.name}`);
      await policy.onBreak(ctx, stage.name);
    }
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
      await policy.onFailure(ctx, failure);
      ctx.log.info(`stage ${stage.name}: trying again`);
    }
  }
}
