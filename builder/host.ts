// What the builder takes from the build machine: Debian's tools and the
// shared libraries they need. A missing tool is named with its package.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

export interface HostTool {
  readonly name: string;
  readonly candidates: readonly string[];
  readonly debianPackage: string;
}

export const TOOLS = {
  busybox: { name: 'busybox', candidates: ['/usr/bin/busybox', '/bin/busybox'], debianPackage: 'busybox-static' },
  dmsetup: { name: 'dmsetup', candidates: ['/usr/sbin/dmsetup', '/sbin/dmsetup'], debianPackage: 'dmsetup' },
  strip: { name: 'strip', candidates: ['/usr/bin/strip'], debianPackage: 'binutils' },
  ldd: { name: 'ldd', candidates: ['/usr/bin/ldd', '/bin/ldd'], debianPackage: 'libc-bin' },
  zstd: { name: 'zstd', candidates: ['/usr/bin/zstd', '/bin/zstd'], debianPackage: 'zstd' },
  gzip: { name: 'gzip', candidates: ['/usr/bin/gzip', '/bin/gzip'], debianPackage: 'gzip' },
  xz: { name: 'xz', candidates: ['/usr/bin/xz', '/bin/xz'], debianPackage: 'xz-utils' },
  lz4: { name: 'lz4', candidates: ['/usr/bin/lz4'], debianPackage: 'lz4' },
  mksquashfs: { name: 'mksquashfs', candidates: ['/usr/bin/mksquashfs', '/usr/sbin/mksquashfs'], debianPackage: 'squashfs-tools' },
  // Compiles the runtime's hot-pages module, and the recorder that finds its pages (--hot-pages).
  cc: { name: 'cc', candidates: ['/usr/bin/cc', '/usr/bin/gcc'], debianPackage: 'gcc' },
  icupkg: { name: 'icupkg', candidates: ['/usr/sbin/icupkg', '/usr/bin/icupkg'], debianPackage: 'icu-devtools' },
  // Not a tool: a library Node's official binary needs, and minimal Debian systems lack.
  libatomic: { name: 'libatomic.so.1', candidates: ['/usr/lib/x86_64-linux-gnu/libatomic.so.1', '/lib/x86_64-linux-gnu/libatomic.so.1'], debianPackage: 'libatomic1' },
} as const satisfies Record<string, HostTool>;

export class BuildError extends Error {
  override name = 'BuildError';
}

export function findTool(tool: HostTool): string {
  const found = tool.candidates.find((path) => existsSync(path));
  if (!found) {
    throw new BuildError(`${tool.name} not found (looked in ${tool.candidates.join(', ')}); install it with: apt-get install ${tool.debianPackage}`);
  }
  return found;
}

const PT_INTERP = 3;

/** True for an ELF executable with no program interpreter, i.e. statically linked. */
export function isStaticElf(bytes: Uint8Array): boolean {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.readUInt32BE(0) !== 0x7f454c46 || b[4] !== 2) return false; // ELF, 64-bit
  const phoff = Number(b.readBigUInt64LE(0x20));
  const phentsize = b.readUInt16LE(0x36);
  const phnum = b.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) if (b.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  return true;
}

export function requireStaticBusybox(path: string): void {
  if (!isStaticElf(readFileSync(path))) {
    throw new BuildError(`${path} is not statically linked; install Debian's static build with: apt-get install busybox-static`);
  }
}

/** Paths of the shared libraries (and the loader) an ELF file needs, as ldd reports them. */
function parseLdd(output: string): string[] {
  const paths: string[] = [];
  for (const line of output.split('\n')) {
    const match = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) paths.push(match[1]);
  }
  return paths;
}

export function sharedLibraries(ldd: string, file: string): string[] {
  return parseLdd(execFileSync(ldd, [file], { encoding: 'utf8' }));
}
