import * as assert from 'uvu/assert';
import type { BootResult } from '../../scripts/vm/qemu';

/**
 * The values of the guest's "GUEST key=value" lines, in order. A line may
 * follow what another program left on the console without a newline (a
 * getty's login prompt).
 */
export function guest(console: string, key: string): string[] {
  return [...console.matchAll(new RegExp(`^(?:.*\\s)?GUEST ${key}=(.*?)\\r?$`, 'gm'))].map((m) => m[1] ?? '');
}

export function assertCleanBoot(result: BootResult): void {
  assert.not.match(result.console, /Kernel panic/, `kernel panic, see ${result.logFile}`);
  assert.ok(result.console.includes('GUEST done'), `the root's init did not finish, see ${result.logFile}`);
}
