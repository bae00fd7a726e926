import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { testKernel } from './kernel';
import { PROJECT_DIR, VM_CACHE } from './project';

/** Packs our initramfs for the test kernel with "cowboot build", as a user would. */
export function buildImage(name: string, extraArgs: readonly string[] = []): string {
  const kernel = testKernel();
  mkdirSync(VM_CACHE, { recursive: true });
  const output = join(VM_CACHE, `${name}.img`);
  execFileSync(process.execPath, [join(PROJECT_DIR, 'bin', 'cowboot.mjs'), 'build', '-o', output, '--kmoddir', kernel.kmoddir, ...extraArgs], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return output;
}
