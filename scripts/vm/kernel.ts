import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR } from './project';

/** The Debian releases the tests boot: trixie (stable) first, bookworm (oldstable) for its freeze matrix. */
export type DebianRelease = 'trixie' | 'bookworm';

interface TestKernel {
  readonly release: DebianRelease;
  readonly version: string;
  readonly vmlinuz: string;
  readonly kmoddir: string;
  /** The Debian mirror it came from (no security or updates suites), for chroots that must get the same kernel. */
  readonly mirror: string;
}

/** A release's kernel that scripts/setup.mjs unpacked into .cache/kernel/RELEASE; trixie's unless told. */
export function testKernel(release: DebianRelease = 'trixie'): TestKernel {
  const dir = join(PROJECT_DIR, '.cache', 'kernel', release);
  const info = join(dir, 'kernel.json');
  if (!existsSync(info)) {
    throw new Error(`no ${release} test kernel in ${dir}: run "node scripts/setup.mjs" (npm test and npm run demo do) to fetch Debian's linux-image-amd64`);
  }
  const { version, mirror } = JSON.parse(readFileSync(info, 'utf8')) as { version: string; mirror?: string };
  if (!mirror) throw new Error(`${info} is from an older setup and names no mirror: run "node scripts/setup.mjs" again`);
  return {
    release,
    version,
    vmlinuz: join(dir, 'root', 'boot', `vmlinuz-${version}`),
    kmoddir: join(dir, 'root', 'lib', 'modules', version),
    mirror,
  };
}
