// What happens when boot stops: after a failure, or before a stage named by
// rd.break=. By default a shell on the console; with rd.shell=0 (kiosks,
// public machines) no shell but rd.emergency after the kernel's panic= delay;
// with a rescue password, three tries at it first.

import type { EmergencyAction } from '../config';
import type { Context } from './context';
import { SHELL } from '../layout/image-paths';
import type { Failure } from './errors';
import type { Policy } from './machine';
import { apiFilesystem } from './api-mounts';
import { mountedTargets, mountOnce } from './mount';
import { verifyPassword } from '../formats/password-hash';
import { HANDOVER_DIR, LOG_FILE } from '../layout/boot-paths';
import type { StageName } from '../config/stage-names';

// setsid makes the shell a session leader and cttyhack opens the real console
// device (not /dev/console, which cannot be a controlling terminal), so that
// Ctrl-C and job control work.
const RESCUE_SHELL: readonly string[] = ['setsid', 'cttyhack', SHELL, '-l'];

const PASSWORD_TRIES = 3;
const DEFAULT_EMERGENCY_DELAY_S = 5;
const RETRY_AFTER_SHELL_ERROR_MS = 5000;

/** Seconds before rd.emergency acts, from the kernel's panic=; null waits for ever (panic=0). */
export function emergencyDelay(panic: number | null): number | null {
  if (panic === null) return DEFAULT_EMERGENCY_DELAY_S;
  if (panic === 0) return null;
  return Math.max(panic, 0);
}

function failureBanner(failure: Failure): string {
  return [
    '',
    '*** cowboot rescue shell ***',
    `Boot stopped in stage "${failure.stage}"; the reason is above, the whole log in ${LOG_FILE} and in dmesg.`,
    'Fix what is wrong (load a module, make a device node, mount by hand), then type "exit":',
    `cowboot then tries stage "${failure.stage}" again.`,
    '',
  ].join('\n');
}

function breakBanner(stage: StageName): string {
  return [
    '',
    '*** cowboot rescue shell (rd.break) ***',
    `Boot stopped before stage "${stage}", as rd.break asked. The log so far is in ${LOG_FILE}.`,
    `Type "exit" to go on with stage "${stage}".`,
    '',
  ].join('\n');
}

function saveLog(ctx: Context): void {
  try {
    ctx.sys.mkdirp(HANDOVER_DIR);
    ctx.sys.writeText(LOG_FILE, ctx.log.text());
  } catch (error) {
    ctx.log.warn(`could not write ${LOG_FILE}: ${(error as Error).message}`);
  }
}

// A failure in the config stage comes before /dev is mounted; the shell
// needs the console's real device and a /dev/pts for job control.
async function ensureDevices(ctx: Context): Promise<void> {
  if (mountedTargets(ctx).has('/dev')) return;
  try {
    await mountOnce(ctx, apiFilesystem('/dev'));
  } catch (error) {
    ctx.log.warn(`no /dev for the rescue shell: ${(error as Error).message}`);
  }
}

async function emergency(ctx: Context, why: string): Promise<never> {
  const action: EmergencyAction = ctx.config.emergency;
  const delay = emergencyDelay(ctx.config.panic);
  if (delay === null) {
    ctx.log.error(`${why}; panic=0: waiting for ever (power the machine off by hand)`);
  } else {
    ctx.log.error(`${why}; ${action} in ${delay} s (rd.emergency=${action}, panic=${ctx.config.panic ?? 'unset'})`);
    saveLog(ctx);
    await ctx.sys.sleep(delay * 1000);
    await ctx.sys.run(['sync']);
    const result = await ctx.sys.run([action, '-f']);
    ctx.log.error(`${action} -f did not take effect (status ${result.status}): ${result.stderr.trim()}; waiting for ever`);
  }
  // PID 1 must not exit; nothing is left to do but wait.
  return new Promise<never>(() => undefined);
}

async function passwordAccepted(ctx: Context, hash: string): Promise<boolean> {
  for (let attempt = 1; attempt <= PASSWORD_TRIES; attempt++) {
    const answer = await ctx.sys.readSecret('Password for the cowboot rescue shell: ');
    const right = answer !== null && verifyPassword(Buffer.from(answer).toString('utf8'), hash);
    answer?.fill(0);
    if (right) return true;
    ctx.log.warn(`wrong rescue password (attempt ${attempt} of ${PASSWORD_TRIES})`);
  }
  return false;
}

async function shell(ctx: Context, banner: string): Promise<void> {
  const hash = ctx.config.rescuePassword;
  if (hash !== null && !(await passwordAccepted(ctx, hash))) await emergency(ctx, `${PASSWORD_TRIES} wrong rescue passwords`);
  ctx.sys.writeConsole(`${banner}\n`);
  try {
    await ctx.sys.interactiveShell(RESCUE_SHELL);
  } catch (error) {
    // Without a shell there is nothing to wait for; pause so the retry loop
    // does not spin, and keep PID 1 alive.
    ctx.log.error(`rescue shell could not start: ${(error as Error).message}`);
    await ctx.sys.sleep(RETRY_AFTER_SHELL_ERROR_MS);
  }
}

export const rescuePolicy: Policy = {
  async onFailure(ctx, failure) {
    saveLog(ctx);
    if (!ctx.config.shell) await emergency(ctx, `stage ${failure.stage} failed and rd.shell=0 allows no shell`);
    await ensureDevices(ctx);
    await shell(ctx, failureBanner(failure));
  },
  async onBreak(ctx, stage) {
    if (!ctx.config.shell) {
      ctx.log.warn(`rd.break=${stage} ignored: rd.shell=0 allows no shell`);
      return;
    }
    saveLog(ctx);
    await ensureDevices(ctx);
    await shell(ctx, breakBanner(stage));
  },
};
