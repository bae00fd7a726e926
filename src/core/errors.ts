// A boot failure says what was tried (a command, a device, a path), what went
// wrong, and where it helps, what the user can do about it.

import type { StageName } from '../config/stage-names';

export class BootError extends Error {
  constructor(
    message: string,
    readonly detail: { readonly command?: readonly string[]; readonly hint?: string } = {},
  ) {
    super(message);
    this.name = 'BootError';
  }
}

/** A command as a user would type it, for messages (never run through a shell). */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}

/** A failure as the stage machine reports it: the stage, and what it threw. */
export interface Failure {
  readonly stage: StageName | 'internal';
  readonly error: unknown;
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
