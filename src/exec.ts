import { BootError, showCommand } from './errors';
import type { Context } from './context';
import type { RunOptions } from './system';

/** Runs a command and returns its stdout; a non-zero exit becomes a BootError naming the command. */
export async function exec(ctx: Context, argv: readonly string[], hint?: string, options: RunOptions = {}): Promise<string> {
  ctx.log.debug(`run: ${showCommand(argv)}`);
  const result = await ctx.sys.run(argv, options);
  if (result.status === 0) return result.stdout;
  const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
  const stderr = result.stderr.trim();
  throw new BootError(`${argv[0]} ${how}${stderr ? `: ${stderr}` : ''}`, hint === undefined ? { command: argv } : { command: argv, hint });
}
