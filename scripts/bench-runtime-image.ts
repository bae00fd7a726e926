// npm run bench:runtime-image [-- --runs N] [--only a,b]: how to compress the runtime's
// squashfs image (--pack-runtime squashfs), against Node unpacked from the
// cpio (--pack-runtime cpio). Each variant is our image with only its
// runtime segment swapped. Instruction-counted boots (see bench.ts) of the
// overlayfs disk mode; guest seconds, medians. The kernel decompresses what
// Node runs during the handoff, so a variant's cost shows there, and its
// gain in the time to /init.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { currentAssets } from '../cli/assets';
import { DEFAULT_ICU, type IcuMode } from '../builder/icu';
import { SQUASHFS_COMPRESSIONS, squashRuntime } from '../builder/runtime-image';
import { benchDisk, bootToRootInit, type Sample } from './bench/media';
import { median, spread } from './stats';
import { buildImage, withRuntimeImage } from './vm/image';
import { VM_CACHE } from './vm/project';

// Each variant: the runtime's ICU data (--icu) and mksquashfs's options.
const VARIANTS: Readonly<Record<string, { readonly icu: IcuMode; readonly mksquashfs: readonly string[] }>> = {
  'zstd -19, 1 MiB blocks (--pack-runtime squashfs, the default)': { icu: DEFAULT_ICU, mksquashfs: SQUASHFS_COMPRESSIONS.zstd.mksquashfs },
  'zstd -19, 1 MiB blocks, --icu full': { icu: 'full', mksquashfs: SQUASHFS_COMPRESSIONS.zstd.mksquashfs },
  'zstd -19, 128 KiB blocks': { icu: DEFAULT_ICU, mksquashfs: ['-comp', 'zstd', '-Xcompression-level', '19', '-b', '128K'] },
  'xz with the x86 filter, 1 MiB blocks': { icu: DEFAULT_ICU, mksquashfs: ['-comp', 'xz', '-Xbcj', 'x86', '-b', '1M'] },
  'lz4 -Xhc, 128 KiB blocks (--pack-runtime squashfs-lz4)': { icu: DEFAULT_ICU, mksquashfs: SQUASHFS_COMPRESSIONS.lz4.mksquashfs },
};
const IN_CPIO = 'Node in the cpio (--pack-runtime cpio)';
const HOT = 'zstd -19, 1 MiB blocks, with its hot pages (--hot-pages yes)';

// --only a,b: the variants whose names contain one of these.
const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, only: { type: 'string' } } });
const wanted = (name: string) => values.only === undefined || values.only.split(',').some((part) => name.includes(part));
const ours = buildImage('bench-runtime');
const images: Record<string, { image: string; packSeconds: number | null }> = {};
if (wanted(IN_CPIO)) images[IN_CPIO] = { image: buildImage('bench-runtime-cpio', ['--pack-runtime', 'cpio']), packSeconds: null };
if (wanted(HOT)) images[HOT] = { image: buildImage('bench-runtime-hot', ['--hot-pages', 'yes']), packSeconds: null };
for (const [name, { icu, mksquashfs }] of Object.entries(VARIANTS).filter(([name]) => wanted(name))) {
  const node = currentAssets().runtimeBinary('node', icu, (line) => process.stderr.write(`${line}\n`)).path;
  const squashfs = join(VM_CACHE, 'bench-runtime.squashfs');
  const started = performance.now();
  squashRuntime(node, 'node', squashfs, mksquashfs);
  const packSeconds = (performance.now() - started) / 1000;
  const image = withRuntimeImage(ours, readFileSync(squashfs), join(VM_CACHE, `bench-runtime-${Object.keys(images).length}.img`));
  images[name] = { image, packSeconds };
}
const disk = benchDisk();
const samples = new Map<string, Sample[]>(Object.keys(images).map((name) => [name, []]));
for (let run = 0; run < Number(values.runs); run++) {
  for (const [name, { image }] of Object.entries(images)) {
    const sample = await bootToRootInit({ name: `bench-runtime-${run}`, initrd: image, drives: [`file=${disk},if=virtio,format=raw`], devices: [], append: 'root=/dev/vda overlay=overlayfs', icount: true, memoryMiB: 1024, timeoutMs: 240_000 });
    if (sample === null) throw new Error(`${name} did not reach its root's init; see .cache/vm/logs`);
    samples.get(name)!.push(sample);
  }
}
const fmt = (xs: number[]) => `${median(xs).toFixed(2)} (${spread(xs)[0].toFixed(2)}–${spread(xs)[1].toFixed(2)})`;
const rows = Object.entries(images).map(([name, { image, packSeconds }]) => {
  const s = samples.get(name)!;
  return `| ${name} | ${(readFileSync(image).length / 1048576).toFixed(1)} | ${packSeconds?.toFixed(1) ?? '—'} | ${fmt(s.map((x) => x.toInit))} | ${fmt(s.map((x) => x.handoff))} | ${fmt(s.map((x) => x.total))} |`;
});
process.stdout.write(['| runtime | image (MiB) | mksquashfs (s) | kernel → /init (s) | handoff (s) | power-on → root init (s) |', '|---|---|---|---|---|---|', ...rows, ''].join('\n'));
