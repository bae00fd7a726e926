import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CpioEntry, entryKind, readCpio, writeCpio } from '../../builder/cpio';
import { imageSegments } from '../../builder/inspect';
import { RUNTIME_IMAGE } from '../../src/layout/image-paths';
import { type DebianRelease, testKernel } from './kernel';
import { PROJECT_DIR, VM_CACHE } from './project';

/**
 * The run of npm test this process belongs to (scripts/test.mjs sets it):
 * within one run the sources do not change, so an image built with the same
 * arguments is the same image, and the VM files share it.
 */
export const TEST_RUN = process.env.COWBOOT_TEST_RUN ?? null;

/** Packs our initramfs for a release's test kernel (trixie's unless told) with "cowboot build", as a user would. */
export function buildImage(name: string, extraArgs: readonly string[] = [], release: DebianRelease = 'trixie'): string {
  const kernel = testKernel(release);
  mkdirSync(VM_CACHE, { recursive: true });
  const output = join(VM_CACHE, `${name}.img`);
  const stamp = `${output}.built`;
  const made = JSON.stringify({ run: TEST_RUN, kmoddir: kernel.kmoddir, extraArgs });
  if (TEST_RUN !== null && existsSync(output) && existsSync(stamp) && readFileSync(stamp, 'utf8') === made) {
    // On stderr, where the builder's own progress goes: the demo's stdout is checked line by line.
    process.stderr.write(`cowboot: ${output} as built earlier in this run\n`);
    return output;
  }
  rmSync(stamp, { force: true });
  execFileSync(process.execPath, [join(PROJECT_DIR, 'bin', 'cowboot.mjs'), 'build', '-o', output, '--kmoddir', kernel.kmoddir, ...extraArgs], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  writeFileSync(stamp, made);
  return output;
}

/**
 * Writes `output`: `image` (a --pack-runtime squashfs build) with files of
 * its first, uncompressed segment (the runtime's image, its hot pages)
 * replaced, by path; the segment's other files stay.
 */
export function withStoredFiles(image: string, files: Readonly<Record<string, Uint8Array>>, output: string): string {
  const [stored, packed] = imageSegments(image);
  if (stored?.format !== 'none' || packed === undefined) throw new Error(`${image} should start with its uncompressed runtime segment, then the rest`);
  const entries = readCpio(stored.cpio).map((entry): CpioEntry => {
    const mode = entry.mode & 0o7777;
    return entryKind(entry.mode) === 'dir' ? { kind: 'dir', path: entry.path, mode } : { kind: 'file', path: entry.path, mode, data: files[`/${entry.path}`] ?? entry.data };
  });
  writeFileSync(output, Buffer.concat([...writeCpio(entries, 0), readFileSync(image).subarray(packed.offset)]));
  return output;
}

/** `image` with its runtime's squashfs image replaced by `squashfs`; its hot pages, if any, stay, and no longer match it. */
export function withRuntimeImage(image: string, squashfs: Uint8Array, output: string): string {
  return withStoredFiles(image, { [RUNTIME_IMAGE]: squashfs }, output);
}
