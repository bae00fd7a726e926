// Plan mode: validates a command line (and config) exactly as boot would,
// then walks the real stages against an imagined machine and lists each
// stage's commands with their exact arguments. No root needed, nothing runs.

import { createContext } from '../boot';
import { parseCmdline } from '../formats/cmdline';
import { describeFailure, type Failure } from '../core/errors';
import { runStages } from '../core/machine';
import { UNION_NAMES, type UnionName } from '../config/union-names';
import { BOOT_STAGES } from '../stages';
import { planSystem } from './plan-system';

class PlanStopped extends Error {
  constructor(readonly failure: Failure) {
    super('plan stopped');
  }
}

interface PlanResult {
  readonly ok: boolean;
  readonly text: string;
}

/** `unions`: the kinds the image carries; `cowboot plan` gives those of an image built on this machine. */
export async function plan(cmdline: string, imageConfig: string | null, unions: readonly UnionName[] = UNION_NAMES): Promise<PlanResult> {
  const sys = planSystem(cmdline, imageConfig, unions);
  const ctx = createContext(sys, parseCmdline(cmdline).initArgs, {});
  ctx.events.on((event) => {
    if (event.kind === 'stage-start') sys.stage = event.stage;
    if (event.kind === 'break') sys.commands.push({ stage: event.stage, command: '(rd.break: the rescue shell opens here; exit goes on)' });
  });
  let failure: Failure | null = null;
  try {
    await runStages(BOOT_STAGES, ctx, {
      onFailure: async (_ctx, f) => {
        throw new PlanStopped(f);
      },
      onBreak: async () => undefined,
    });
  } catch (error) {
    if (!(error instanceof PlanStopped)) throw error;
    failure = error.failure;
  }
  const lines = [`cowboot plan for: ${cmdline}`, `assuming: ${sys.assumptions.join('; ')}`];
  let stage = '';
  for (const { stage: s, command } of sys.commands) {
    if (s !== stage) {
      lines.push(`stage ${s}:`);
      stage = s;
    }
    lines.push(`  ${command}`);
  }
  if (failure) {
    lines.push(...describeFailure(failure, 'would fail'));
    lines.push('then: the failure policy (the rescue shell, or rd.emergency with rd.shell=0)');
  }
  return { ok: failure === null, text: `${lines.join('\n')}\n` };
}
