// The rescue path: a shell on the console where the user can look around and
// fix things; when it exits, the machine retries the failed stage.

import type { Context } from './context';
import type { Failure } from './machine';
import { HANDOVER_DIR, LOG_FILE, SHELL } from './paths';

// setsid makes the shell a session leader and cttyhack opens the real console
// device (not /dev/console, which cannot be a controlling terminal), so that
// Ctrl-C and job control work.
export const RESCUE_SHELL: readonly string[] = ['setsid', 'cttyhack', SHELL, '-l'];

const RETRY_AFTER_SHELL_ERROR_MS = 5000;

export function rescueBanner(failure: Failure): string {
  return [
    '',
    '*** cowboot rescue shell ***',
    `Boot stopped in stage "${failure.stage}"; the reason is above, the whole log in ${LOG_FILE} and in dmesg.`,
    'Fix what is wrong (load a module, make a device node, mount by hand), then type "exit":',
    `cowboot then tries stage "${failure.stage}" again.`,
    '',
  ].join('\n');
}

export async function rescueShell(ctx: Context, failure: Failure): Promise<void> {
  try {
    ctx.sys.mkdirp(HANDOVER_DIR);
    ctx.sys.writeText(LOG_FILE, ctx.log.text());
  } catch (error) {
    ctx.log.warn(`could not write ${LOG_FILE}: ${(error as Error).message}`);
  }
  ctx.sys.writeConsole(`${rescueBanner(failure)}\n`);
  try {
    await ctx.sys.interactiveShell(RESCUE_SHELL);
  } catch (error) {
    // Without a shell there is nothing to wait for; pause so the retry loop
    // does not spin, and keep PID 1 alive.
    ctx.log.error(`rescue shell could not start: ${(error as Error).message}`);
    await ctx.sys.sleep(RETRY_AFTER_SHELL_ERROR_MS);
  }
}
