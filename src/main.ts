// Entry of the bundle that becomes /init: wires the real system to the boot
// and keeps PID 1 alive whatever happens.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { boot, createContext, onEscapedError } from './boot';
import { plan } from './plan/plan';
import { realSystem } from './sys/linux';

// The kernel does not deliver these to PID 1 without a handler, but a handler
// in Node would otherwise be absent only by accident: say so in the log.
const IGNORED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const REAP_INTERVAL_MS = 1000;
const PLAN_USAGE = 'To see what it would do: node dist/init.js plan --cmdline "root=LABEL=x overlay=dm 3" [--config FILE]\n';

if (process.pid === 1) {
  // Experimental-feature warnings (execve, ffi) are noise on the console.
  process.removeAllListeners('warning');
  const env: Record<string, string> = {};
  // LD_AUDIT is the first step's, for Node's own start (hot pages); the root's init must not load it.
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && key !== 'LD_AUDIT') env[key] = value;
  const sys = realSystem();
  const ctx = createContext(sys, process.argv.slice(2), env);
  process.on('uncaughtException', onEscapedError(ctx));
  process.on('unhandledRejection', onEscapedError(ctx));
  for (const signal of IGNORED_SIGNALS) process.on(signal, () => ctx.log.warn(`ignored ${signal}: PID 1 goes on`));
  // Also what keeps Node from running out of work and exiting, which would panic the kernel.
  setInterval(() => {
    const reaped = sys.reapOrphans();
    if (reaped.length > 0) ctx.log.debug(`reaped orphans: ${reaped.join(' ')}`);
  }, REAP_INTERVAL_MS);
  void boot(ctx);
} else if (process.argv[2] === 'plan') {
  void runPlan(process.argv.slice(3));
} else {
  process.stderr.write(`cowboot: this is the /init of an initramfs and boots only as PID 1.\n${PLAN_USAGE}`);
  process.exitCode = 2;
}

async function runPlan(args: string[]): Promise<void> {
  let values: { cmdline?: string | undefined; config?: string | undefined };
  try {
    values = parseArgs({ args, options: { cmdline: { type: 'string' }, config: { type: 'string' } }, strict: true }).values;
  } catch (error) {
    process.stderr.write(`cowboot plan: ${(error as Error).message}\n${PLAN_USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (values.cmdline === undefined) {
    process.stderr.write(`cowboot plan: --cmdline is required\n${PLAN_USAGE}`);
    process.exitCode = 2;
    return;
  }
  const config = values.config === undefined ? null : readFileSync(values.config, 'utf8');
  const result = await plan(values.cmdline, config);
  process.stdout.write(result.text);
  process.exitCode = result.ok ? 0 : 1;
}
