import type { Context } from './context';
import { BootError, showCommand } from './errors';
import type { RunOptions, RunResult } from '../sys/system';

/** A command's stdout; a non-zero exit becomes a BootError naming the command. */
export function checked(argv: readonly string[], result: RunResult, hint?: string): string {
  if (result.status === 0) return result.stdout;
  const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
  const stderr = result.stderr.trim();
  throw new BootError(`${argv[0]} ${how}${stderr ? `: ${stderr}` : ''}`, hint === undefined ? { command: argv } : { command: argv, hint });
}

/** Runs a command and returns its stdout, or throws as checked() says. */
export async function exec(ctx: Context, argv: readonly string[], hint?: string, options: RunOptions = {}): Promise<string> {
  ctx.log.debug(`run: ${showCommand(argv)}`);
  return checked(argv, await ctx.sys.run(argv, options), hint);
}
