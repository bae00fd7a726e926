// npm run bench [-- --runs N]: cowboot against the seed's shell scripts
// (bench/reference/*.sh run by busybox sh as /init, with the same kernel,
// busybox, tools and modules), booted alternately N times per union kind in
// QEMU TCG with the same disk. All ratios come from this one run.

import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { eventsIn } from '../src/events';
import { runtimePath } from '../builder/bundle';
import { compressFile } from '../builder/compress';
import { type CpioEntry, entryKind, normalizePath, writeCpio } from '../builder/cpio';
import { readImage } from '../builder/inspect';
import { IMAGE_CONFIG, INIT, KERNEL_STAMP } from '../src/image-layout';
import { makeGuestDisk } from './vm/guest';
import { buildImage } from './vm/image';
import { PROJECT_DIR, VM_CACHE } from './vm/project';
import { median, spread } from './stats';
import { boot } from './vm/qemu';

const MODES = ['unionfs', 'dm', 'overlayfs'] as const;
type Mode = (typeof MODES)[number];
const OUR_PARAMS: Record<Mode, string> = { unionfs: 'overlay=unionfs', dm: 'overlay=dm cow=ram cowsize=64M', overlayfs: 'overlay=overlayfs' };

// The root's init: when it started, the kernel's "Run /init" time (from the
// ring buffer, so the console can stay quiet), and the RAM left.
const ROOT_INIT = `#!/bin/sh
up=$(cut -d' ' -f1 /proc/uptime)
echo "BENCH init=$up run=$(dmesg | sed -n 's/^\\[ *\\([0-9.]*\\)\\] Run \\/init as init process.*/\\1/p') mem=$(awk '/MemAvailable/{print $2}' /proc/meminfo)"
[ -f /run/initramfs/init.log ] && grep -o 'stage [a-z-]*: done in [0-9]* ms' /run/initramfs/init.log
poweroff -f
`;

interface Sample {
  readonly handoff: number;
  readonly total: number;
  readonly memKiB: number;
  readonly stages: Record<string, number>;
}


/** Our image's files with the seed's script as /init and no Node: the same busybox, tools and modules. */
function referenceImage(ours: string, mode: Mode): string {
  const drop = new Set([INIT, runtimePath('node'), IMAGE_CONFIG, KERNEL_STAMP].map(normalizePath));
  const entries: CpioEntry[] = [];
  for (const e of readImage(ours)) {
    if (drop.has(e.path)) continue;
    const kind = entryKind(e.mode);
    const mode = e.mode & 0o7777;
    if (kind === 'dir') entries.push({ kind, path: e.path, mode });
    else if (kind === 'file') entries.push({ kind, path: e.path, mode, data: e.data });
    else if (kind === 'symlink') entries.push({ kind, path: e.path, target: Buffer.from(e.data).toString() });
    else if (kind === 'chardev') entries.push({ kind, path: e.path, mode, major: e.rmajor, minor: e.rminor });
  }
  entries.push({ kind: 'file', path: INIT, mode: 0o755, data: readFileSync(join(PROJECT_DIR, 'bench', 'reference', `${mode}.sh`)) });
  const cpio = join(VM_CACHE, `reference-${mode}.cpio`);
  writeFileSync(cpio, Buffer.concat(writeCpio(entries, 0)));
  const image = join(VM_CACHE, `reference-${mode}.img`);
  compressFile('zstd', cpio, image);
  return image;
}

async function sample(name: string, initrd: string, disk: string, params: string): Promise<Sample> {
  const result = await boot({ name, initrd, drives: [`file=${disk},if=virtio,format=raw`], append: `console=ttyS0 root=/dev/vda quiet ${params}`, marks: [/BENCH init=/] });
  const match = /BENCH init=([\d.]+) run=([\d.]+) mem=(\d+)/.exec(result.console);
  if (!match || result.marks[0] === null) throw new Error(`${name}: no BENCH line, see ${result.logFile}`);
  const stages: Record<string, number> = {};
  // Printed by the root's init from /run/initramfs/init.log (quiet keeps them off the console).
  for (const event of eventsIn(result.console, 'stage-done')) stages[event.stage] = event.ms;
  return { handoff: Number(match[1]) - Number(match[2]), total: result.marks[0]! / 1000, memKiB: Number(match[3]), stages };
}

function svgChart(rows: { mode: Mode; ours: readonly number[]; ref: readonly number[] }[]): string {
  const width = 640;
  const barH = 22;
  const max = Math.max(...rows.flatMap((r) => [...r.ours, ...r.ref])) * 1.1;
  const x = (v: number) => 120 + (v / max) * (width - 160);
  const parts: string[] = [];
  rows.forEach((r, i) => {
    const y = 30 + i * (barH * 2 + 24);
    parts.push(`<text x="10" y="${y + barH + 4}" font-size="14">${r.mode}</text>`);
    for (const [j, [label, values, colour]] of ([['cowboot', r.ours, '#2b7bb9'], ['script', r.ref, '#999']] as const).entries()) {
      const yy = y + j * barH;
      const [lo, hi] = spread(values);
      parts.push(`<rect x="120" y="${yy}" width="${x(median(values)) - 120}" height="${barH - 4}" fill="${colour}"/>`);
      parts.push(`<line x1="${x(lo)}" x2="${x(hi)}" y1="${yy + barH / 2 - 2}" y2="${yy + barH / 2 - 2}" stroke="black"/>`);
      parts.push(`<text x="${x(hi) + 6}" y="${yy + barH - 8}" font-size="12">${label} ${median(values).toFixed(2)} s</text>`);
    }
  });
  const height = 40 + rows.length * (barH * 2 + 24);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14">Handoff time ("Run /init" to the root's init), median and spread</text>${parts.join('')}</svg>\n`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
  const runs = Number(values.runs);
  const ours = buildImage('bench');
  const disk = makeGuestDisk('bench-root', { init: ROOT_INIT });
  const results: Record<string, { ours: Sample[]; ref: Sample[]; refImage: string }> = {};
  for (const mode of MODES) {
    const refImage = referenceImage(ours, mode);
    const entry = { ours: [] as Sample[], ref: [] as Sample[], refImage };
    results[mode] = entry;
    for (let run = 0; run < runs; run++) {
      // Alternate which goes first, so drift in the machine's speed falls on both.
      const order = run % 2 === 0 ? (['ours', 'ref'] as const) : (['ref', 'ours'] as const);
      for (const who of order) {
        const s = who === 'ours' ? await sample(`bench-${mode}-ours-${run}`, ours, disk, OUR_PARAMS[mode]) : await sample(`bench-${mode}-ref-${run}`, refImage, disk, '');
        entry[who].push(s);
        process.stderr.write(`${mode} ${who} run ${run + 1}: handoff ${s.handoff.toFixed(2)} s, total ${s.total.toFixed(2)} s, MemAvailable ${s.memKiB} KiB\n`);
      }
    }
  }
  const bundle = statSync(join(PROJECT_DIR, 'dist', 'init.js')).size;
  const ourSize = statSync(ours).size;
  const rows: string[] = [
    '| mode | measure | cowboot (median, spread) | script (median, spread) | ratio cowboot / script |',
    '|---|---|---|---|---|',
  ];
  const summary: Record<string, unknown> = {};
  for (const mode of MODES) {
    const { ours: o, ref: r, refImage } = results[mode]!;
    const line = (label: string, get: (s: Sample) => number, unit: string, digits: number) => {
      const a = o.map(get);
      const b = r.map(get);
      const fmt = (v: readonly number[]) => `${median(v).toFixed(digits)} ${unit} (${spread(v)[0].toFixed(digits)}–${spread(v)[1].toFixed(digits)})`;
      rows.push(`| ${mode} | ${label} | ${fmt(a)} | ${fmt(b)} | ${(median(a) / median(b)).toFixed(2)} |`);
      return { ours: median(a), script: median(b), ratio: median(a) / median(b) };
    };
    summary[mode] = {
      handoff: line('handoff', (s) => s.handoff, 's', 2),
      total: line('power-on to root init', (s) => s.total, 's', 2),
      memAvailable: line('MemAvailable at handoff', (s) => s.memKiB / 1024, 'MiB', 0),
      imageBytes: { ours: ourSize, script: statSync(refImage).size, ratio: ourSize / statSync(refImage).size },
      stagesMs: Object.fromEntries(Object.keys(o[0]?.stages ?? {}).map((k) => [k, median(o.map((s) => s.stages[k] ?? 0))])),
    };
    rows.push(`| ${mode} | image (zstd) | ${(ourSize / 1048576).toFixed(1)} MiB | ${(statSync(refImage).size / 1048576).toFixed(1)} MiB | ${(ourSize / statSync(refImage).size).toFixed(2)} |`);
  }
  const table = `${rows.join('\n')}\n\nBundle (dist/init.js): ${(bundle / 1024).toFixed(0)} KB. ${runs} boots of each, alternating, one run, QEMU TCG, 2 vCPUs, 1 GiB.\n`;
  const out = join(PROJECT_DIR, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'bench.json'), `${JSON.stringify({ runs, bundleBytes: bundle, summary, samples: results }, null, 2)}\n`);
  writeFileSync(join(out, 'bench.md'), table);
  writeFileSync(join(out, 'handoff.svg'), svgChart(MODES.map((mode) => ({ mode, ours: results[mode]!.ours.map((s) => s.handoff), ref: results[mode]!.ref.map((s) => s.handoff) }))));
  // The README shows the latest table.
  const readmePath = join(PROJECT_DIR, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const marked = /<!-- bench:start -->\n[\s\S]*?<!-- bench:end -->/;
  if (marked.test(readme)) writeFileSync(readmePath, readme.replace(marked, `<!-- bench:start -->\n${table}\n![handoff time per mode](bench/results/handoff.svg)\n<!-- bench:end -->`));
  process.stdout.write(table);
}

await main();
