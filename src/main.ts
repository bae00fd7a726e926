// Entry of the bundle that becomes /init: wires the real system to the boot
// and keeps PID 1 alive whatever happens.

import { boot, createContext, onEscapedError } from './boot';
import { realSystem } from './real-system';

// The kernel does not deliver these to PID 1 without a handler, but a handler
// in Node would otherwise be absent only by accident: say so in the log.
const IGNORED_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;
const REAP_INTERVAL_MS = 1000;

if (process.pid === 1) {
  // Experimental-feature warnings (execve, ffi) are noise on the console.
  process.removeAllListeners('warning');
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
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
} else {
  process.stderr.write('cowboot: this is the /init of an initramfs and runs only as PID 1.\n');
  process.exitCode = 2;
}
