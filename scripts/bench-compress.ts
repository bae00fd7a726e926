// npm run bench:compress [-- --runs N]: the image's compression against the
// time to boot it. For each compressor and level: the time to pack, the
// size, and the time from QEMU's start to the root's init (the kernel
// unpacks the whole image first). Boots alternate between the variants.

import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGuestDisk } from './vm/guest';
import { buildImage } from './vm/image';
import { PROJECT_DIR } from './vm/project';
import { median } from './stats';
import { boot } from './vm/qemu';

const VARIANTS = [
  ['zstd', '3'], ['zstd', '10'], ['zstd', '19'], ['gzip', '6'], ['xz', '6'], ['lz4', '9'],
] as const;

const ROOT_INIT = `#!/bin/sh
echo "BENCH init"
poweroff -f
`;


async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '2' } } });
  const runs = Number(values.runs);
  const disk = makeGuestDisk('bench-compress', { init: ROOT_INIT });
  const images = VARIANTS.map(([kind, level]) => {
    const started = performance.now();
    const path = buildImage(`compress-${kind}-${level}`, ['--compress', kind, '--compress-level', level]);
    return { kind, level, path, packSeconds: (performance.now() - started) / 1000, bytes: statSync(path).size, totals: [] as number[] };
  });
  for (let run = 0; run < runs; run++) {
    for (const image of run % 2 === 0 ? images : [...images].reverse()) {
      const result = await boot({ name: `bench-compress-${image.kind}-${image.level}-${run}`, initrd: image.path, drives: [`file=${disk},if=virtio,format=raw`], append: 'console=ttyS0 root=/dev/vda quiet', marks: [/BENCH init/] });
      if (result.marks[0] === null) throw new Error(`no BENCH line, see ${result.logFile}`);
      image.totals.push(result.marks[0]! / 1000);
      process.stderr.write(`${image.kind} -${image.level}, run ${run + 1}: ${image.totals.at(-1)!.toFixed(2)} s to the root's init\n`);
    }
  }
  const best = Math.min(...images.map((i) => median(i.totals)));
  const table = [
    '| compression | pack (s, incl. the rest of the build) | image (MiB) | QEMU start to root init (s, median) | ratio to the fastest |',
    '|---|---|---|---|---|',
    ...images.map((i) => `| ${i.kind} -${i.level} | ${i.packSeconds.toFixed(1)} | ${(i.bytes / 1048576).toFixed(1)} | ${median(i.totals).toFixed(2)} | ${(median(i.totals) / best).toFixed(2)} |`),
  ].join('\n');
  const out = join(PROJECT_DIR, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'compress.json'), `${JSON.stringify({ runs, images: images.map(({ path: _p, ...rest }) => rest) }, null, 2)}\n`);
  writeFileSync(join(out, 'compress.md'), `${table}\n\nMedians of ${runs} boots each, alternating, QEMU TCG.\n`);
  process.stdout.write(`${table}\n`);
}

await main();
