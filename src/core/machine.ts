// The stage machine: runs the stages in order, logs each with its duration,
// stops before the stages named by rd.break=, and on a failure reports it and
// hands over to the failure policy; when that returns, the failed stage is
// tried again. It never gives up and never exits.

import type { Context, RunnableStage, StageResults } from './context';
import { BootError, showCommand } from './errors';
import type { StageName } from '../config/stage-names';

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

/** `verb`: plan mode says what "would fail". */
export function describeFailure(failure: Failure, verb = 'failed'): string[] {
  const { error } = failure;
  const lines = [`stage ${failure.stage} ${verb}: ${error instanceof Error ? error.message : String(error)}`];
  if (error instanceof BootError) {
    if (error.detail.command) lines.push(`  command: ${showCommand(error.detail.command)}`);
    if (error.detail.hint) lines.push(`  hint: ${error.detail.hint}`);
  } else if (error instanceof Error && error.stack) {
    lines.push(...error.stack.split('\n').slice(1).map((l) => `  ${l.trim()}`));
  }
  return lines;
}

export async function runStages(stages: readonly RunnableStage[], ctx: Context, policy: Policy): Promise<void> {
  const brokenAt = new Set<StageName>();
  // Each stage's result, by name, for the stages after it (see Before in context.ts).
  const results: Partial<StageResults> = {};
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
      // Each stage's result is StageResults[its name]; TypeScript cannot tie the name to the value here.
      (results as Record<StageName, unknown>)[stage.name] = result;
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
