// The stage machine: runs the stages in order, logs each with its duration,
// stops before the stages named by rd.break=, and on a failure reports it and
// hands over to the failure policy; when that returns, the failed stage is
// tried again. It never gives up and never exits.

import type { Context } from './context';
import type { Failure } from './errors';
import type { StageName } from '../config/stage-names';

/** A stage as the machine runs it: the results so far in, its own out. */
export interface RunnableStage {
  readonly name: StageName;
  run(ctx: Context, before: Readonly<Partial<Record<StageName, unknown>>>): Promise<unknown>;
}

export interface Policy {
  /** After a failure: returns when the stage should be tried again. */
  onFailure(ctx: Context, failure: Failure): Promise<void>;
  /** rd.break=: returns when the boot should go on. */
  onBreak(ctx: Context, stage: StageName): Promise<void>;
}


export async function runStages(stages: readonly RunnableStage[], ctx: Context, policy: Policy): Promise<void> {
  const brokenAt = new Set<StageName>();
  // Each stage's result, by name, for the stages after it (see Before in stages/results.ts).
  const results: Partial<Record<StageName, unknown>> = {};
  let index = 0;
  while (index < stages.length) {
    const stage = stages[index]!;
    if (ctx.config.breakAt.includes(stage.name) && !brokenAt.has(stage.name)) {
      brokenAt.add(stage.name);
      ctx.events.emit({ kind: 'break', stage: stage.name });
      await policy.onBreak(ctx, stage.name);
    }
    const started = ctx.sys.now();
    const ms = () => Math.round(ctx.sys.now() - started);
    ctx.events.emit({ kind: 'stage-start', stage: stage.name });
    try {
      const result = await stage.run(ctx, results);
      results[stage.name] = result;
      ctx.events.emit({ kind: 'stage-done', stage: stage.name, ms: ms() });
      index++;
    } catch (error) {
      const failure = { stage: stage.name, error };
      ctx.events.emit({ kind: 'stage-failed', stage: stage.name, ms: ms(), failure });
      await policy.onFailure(ctx, failure);
      ctx.events.emit({ kind: 'stage-retry', stage: stage.name });
    }
  }
}
