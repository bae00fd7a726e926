// npm run bench:drivers [-- --runs N]: the time for the drivers of the
// devices present at start to be in (the first coldplug pass, which runs in
// the background of the root stage), with modules loaded in parallel
// (rd.driver.jobs=8, the default) against one at a time (rd.driver.jobs=1),
// alternately, on a machine with virtio, AHCI and a virtio-scsi CD. Ratios
// come from one run.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eventsIn } from '../src/core/events';
import { makeGuestDisk, makeIso, REPORTING_INIT } from './vm/guest';
import { buildImage } from './vm/image';
import { PROJECT_DIR } from './vm/project';
import { median } from './stats';
import { boot, cdrom } from './vm/qemu';


async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
  const runs = Number(values.runs);
  const image = buildImage('bench');
  const disk = makeGuestDisk('bench-drivers', { init: REPORTING_INIT });
  const ahci = makeGuestDisk('bench-drivers-ahci', { init: REPORTING_INIT });
  const iso = makeIso('bench-drivers', 'BENCH', { '/readme': disk });
  const samples: Record<string, number[]> = { '1': [], '8': [] };
  for (let run = 0; run < runs; run++) {
    for (const jobs of ['1', '8']) {
      const result = await boot({
        name: `bench-drivers-${jobs}-${run}`,
        initrd: image,
        drives: [`file=${disk},if=virtio,format=raw`],
        devices: [...cdrom(iso), '-device', 'ahci,id=ahci0', '-drive', `if=none,id=ad,file=${ahci},format=raw`, '-device', 'ide-hd,drive=ad,bus=ahci0.0'],
        append: `console=ttyS0 root=LABEL=bench-drivers overlay=overlayfs rd.driver.jobs=${jobs}`,
      });
      const ms = eventsIn(result.console, 'coldplug-done')[0]?.ms;
      if (!ms) throw new Error(`no coldplug time, see ${result.logFile}`);
      samples[jobs]!.push(ms);
      process.stderr.write(`rd.driver.jobs=${jobs}, run ${run + 1}: drivers in after ${ms} ms\n`);
    }
  }
  const serial = median(samples['1']!);
  const parallel = median(samples['8']!);
  const table = [
    '| loading | drivers of the devices present at start, loaded (ms, median) |',
    '|---|---|',
    `| one at a time (rd.driver.jobs=1) | ${serial} |`,
    `| parallel (rd.driver.jobs=8) | ${parallel} |`,
    `| ratio parallel / one at a time | ${(parallel / serial).toFixed(2)} |`,
  ].join('\n');
  const out = join(PROJECT_DIR, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'drivers.json'), `${JSON.stringify({ runs, samples }, null, 2)}\n`);
  writeFileSync(join(out, 'drivers.md'), `${table}\n\nMedians of ${runs} boots each, alternating, QEMU TCG, 2 vCPUs.\n`);
  process.stdout.write(`${table}\n`);
}

await main();
