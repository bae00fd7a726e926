// npm run bench:chunk [-- --runs N]: what the seed's 1-sector snapshot chunk
// costs against 8 sectors (4 KiB). Boots overlay=dm with each, alternately,
// on the same disk; the guest times a large write and many small ones and
// reports how much of the COW they used. Ratios come from one run.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeGuestDisk } from './vm/guest';
import { buildImage } from './vm/image';
import { PROJECT_DIR } from './vm/project';
import { median } from './stats';
import { boot } from './vm/qemu';

const WORKLOAD = `#!/bin/sh
now() { cut -d' ' -f1 /proc/uptime; }
t0=$(now)
dd if=/dev/zero of=/big bs=1M count=32 conv=fsync 2>/dev/null
t1=$(now)
i=0; while [ $i -lt 300 ]; do echo $i > /small-$i; i=$((i+1)); done; sync
t2=$(now)
echo "BENCH big=$(awk "BEGIN{print $t1-$t0}") small=$(awk "BEGIN{print $t2-$t1}") cowkib=$(du -k /run/initramfs/cow/snapshot-cow | cut -f1)"
poweroff -f
`;

interface Sample {
  readonly big: number;
  readonly small: number;
  readonly cowKiB: number;
}


async function sample(image: string, disk: string, chunk: number, run: number): Promise<Sample> {
  const result = await boot({
    name: `bench-chunk-${chunk}-${run}`,
    initrd: image,
    drives: [`file=${disk},if=virtio,format=raw`],
    append: `console=ttyS0 root=/dev/vda overlay=dm cowsize=256M cowchunk=${chunk} quiet`,
  });
  const match = /BENCH big=([\d.]+) small=([\d.]+) cowkib=(\d+)/.exec(result.console);
  if (!match) throw new Error(`no BENCH line, see ${result.logFile}`);
  return { big: Number(match[1]), small: Number(match[2]), cowKiB: Number(match[3]) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  const image = buildImage('bench');
  const disk = makeGuestDisk('bench-chunk', { init: WORKLOAD, sizeMiB: 128 });
  const samples: Record<number, Sample[]> = { 1: [], 8: [] };
  for (let run = 0; run < runs; run++) {
    for (const chunk of [1, 8]) {
      const s = await sample(image, disk, chunk, run);
      samples[chunk]!.push(s);
      process.stderr.write(`chunk ${chunk}, run ${run + 1}: 32 MiB in ${s.big} s, 300 small files in ${s.small} s, COW used ${s.cowKiB} KiB\n`);
    }
  }
  const summary = Object.fromEntries(
    Object.entries(samples).map(([chunk, list]) => [chunk, { big: median(list.map((s) => s.big)), small: median(list.map((s) => s.small)), cowKiB: median(list.map((s) => s.cowKiB)) }]),
  ) as Record<'1' | '8', Sample>;
  const ratio = (k: keyof Sample) => (summary['1'][k] / summary['8'][k]).toFixed(2);
  const table = [
    '| chunk | 32 MiB write (s) | 300 small files (s) | COW used (KiB) |',
    '|---|---|---|---|',
    `| 1 sector (the seed's) | ${summary['1'].big} | ${summary['1'].small} | ${summary['1'].cowKiB} |`,
    `| 8 sectors (4 KiB) | ${summary['8'].big} | ${summary['8'].small} | ${summary['8'].cowKiB} |`,
    `| ratio 1 / 8 | ${ratio('big')} | ${ratio('small')} | ${ratio('cowKiB')} |`,
  ].join('\n');
  const out = join(PROJECT_DIR, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'chunk.json'), `${JSON.stringify({ runs, samples, medians: summary }, null, 2)}\n`);
  writeFileSync(join(out, 'chunk.md'), `${table}\n\nMedians of ${runs} boots each, alternating, QEMU TCG.\n`);
  process.stdout.write(`${table}\n`);
}

await main();
