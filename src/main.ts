// Entry of the bundle that becomes /init.

import { boot } from './boot';
import { realSystem } from './real-system';

function keepAlive(): void {
  // If /init ever ran out of work, Node would exit and the kernel would panic.
  setInterval(() => undefined, 1 << 30);
}

if (process.pid === 1) {
  keepAlive();
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  // process.execve is experimental in Node 26; its warning is noise on the console.
  process.removeAllListeners('warning');
  void boot(realSystem(), process.argv.slice(2), env);
} else {
  process.stderr.write('cowboot: this is the /init of an initramfs and runs only as PID 1.\n');
  process.exitCode = 2;
}
