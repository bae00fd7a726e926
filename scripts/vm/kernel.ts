import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from './project';

interface TestKernel {
  readonly version: string;
  readonly vmlinuz: string;
  readonly kmoddir: string;
}

/** Debian's kernel that scripts/setup.mjs unpacked into .cache/kernel. */
export function testKernel(): TestKernel {
  const dir = join(PROJECT_DIR, '.cache', 'kernel');
  const info = join(dir, 'kernel.json');
  if (!existsSync(info)) {
    throw new Error(`no test kernel in ${dir}: run "node scripts/setup.mjs" (npm test and npm run demo do) to fetch Debian's linux-image-amd64`);
  }
  const { version } = JSON.parse(readFileSync(info, 'utf8')) as { version: string };
  return {
    version,
    vmlinuz: join(dir, 'root', 'boot', `vmlinuz-${version}`),
    kmoddir: join(dir, 'root', 'lib', 'modules', version),
  };
}
