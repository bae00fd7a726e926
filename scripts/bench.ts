// npm run bench [-- --runs N] [--wall-runs N] [--no-ram] [--only GROUP,...]: how long boot takes
// and how much RAM it needs, for cowboot and what users would pick instead,
// all in one run with the same kernel, root, medium and QEMU.
//
// Boots are instruction-counted (QEMU's -icount shift=0,sleep=off): guest
// time advances one nanosecond per instruction, as on a CPU that runs one
// instruction per nanosecond, whatever QEMU spends translating code and
// whatever else the host is doing. Times are the guest's own clock.
//
// - Disk modes (unionfs, dm, overlayfs): cowboot against the seed's shell
//   scripts (bench/reference/*.sh as /init, with cowboot's busybox, tools and
//   modules). A second table times the same with the wall clock under plain
//   TCG, as earlier versions of this benchmark did.
// - Live CD: cowboot (overlayfs) against Debian's dracut (dmsquash-live; with
//   systemd in the initrd and without) and Debian's live-boot, built in
//   mmdebstrap chroots (scripts/bench/peers.ts).
// - Network: the live CD's squashfs from nginx and nbd-server on loopback
//   (scripts/bench/network.ts): cowboot over HTTP (root=live:, checked
//   against SHA256SUMS) and over NBD, against dracut's livenet
//   (root=live:http://) and live-boot's fetch=.
// - cowboot as it was before its runtime's image (--pack-runtime cpio), on the
//   disk (overlayfs) and the CD: what reading Node on demand changed; and with
//   the runtime's image in lz4 (--pack-runtime squashfs-lz4), on the disk.

import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runtimePath } from '../builder/bundle';
import { compressFile } from '../builder/compress';
import { type CpioEntry, entryKind, normalizePath, writeCpio } from '../builder/cpio';
import { readImage, unpackedSize } from '../builder/inspect';
import { IMAGE_CONFIG, INIT, INIT_BUNDLE, KERNEL_STAMP, RUNTIME_DIR, RUNTIME_IMAGE } from '../src/layout/image-paths';
import { benchCd, benchDisk, benchSquashfs, bootToRootInit, CD_LABEL, type Sample } from './bench/media';
import { type BenchServers, serveBenchImage } from './bench/network';
import { USER_NET } from './vm/loopback-daemon';
import { BENCH_RELEASE, PEER_GROUPS, PEERS, type PeerImage, peerImages } from './bench/peers';
import { median, spread } from './stats';
import { buildImage } from './vm/image';
import { testKernel } from './vm/kernel';
import { PROJECT_DIR, VM_CACHE } from './vm/project';
import { cdrom } from './vm/qemu';

const DISK_MODES = ['unionfs', 'dm', 'overlayfs'] as const;
type DiskMode = (typeof DISK_MODES)[number];
const OUR_PARAMS: Record<DiskMode, string> = { unionfs: 'overlay=unionfs', dm: 'overlay=dm cow=ram cowsize=64M', overlayfs: 'overlay=overlayfs' };

const IN_CPIO = 'cowboot, runtime in the cpio';
const IN_LZ4 = 'cowboot, runtime in lz4';

/** What a subject boots from: the disk, the live CD, or the image over the network. */
const GROUPS = ['disk', 'live CD', 'network'] as const;
type Group = (typeof GROUPS)[number];

/** One thing to boot: a tool's image with its command line, in its group. */
interface Subject {
  readonly group: Group;
  readonly mode: string;
  readonly tool: string;
  readonly image: string;
  readonly append: string;
  readonly buildSeconds: number | null;
}

/** The subject as a file name, for its logs and QEMU's monitor socket (whose option a comma would cut). */
function slug(subject: Subject): string {
  return `${subject.tool}-${subject.group}-${subject.mode}`.replace(/[^A-Za-z0-9.]+/g, '-');
}

/** Our image's files with the seed's script as /init and no Node: the same busybox, tools and modules. */
function referenceImage(ours: string, mode: DiskMode): string {
  const drop = new Set([INIT, INIT_BUNDLE, runtimePath('node'), RUNTIME_IMAGE, RUNTIME_DIR, IMAGE_CONFIG, KERNEL_STAMP].map(normalizePath));
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

function machine(subject: Subject, disk: string, cd: string): { drives: string[]; devices: string[]; network?: readonly string[] } {
  switch (subject.group) {
    case 'disk':
      return { drives: [`file=${disk},if=virtio,format=raw`], devices: [] };
    case 'live CD':
      return { drives: [], devices: cdrom(cd) };
    case 'network':
      return { drives: [], devices: [], network: USER_NET };
  }
}

function sample(subject: Subject, name: string, media: { disk: string; cd: string }, options: { icount: boolean; memoryMiB?: number; timeoutMs?: number }): Promise<Sample | null> {
  return bootToRootInit({ name, kernel: testKernel(BENCH_RELEASE).vmlinuz, initrd: subject.image, ...machine(subject, media.disk, media.cd), append: subject.append, icount: options.icount, memoryMiB: options.memoryMiB ?? 1024, timeoutMs: options.timeoutMs ?? 240_000 });
}

/** The least -m (in 16 MiB steps, up to 512) the subject reaches its root's init with; null: not even 512. */
async function leastRam(subject: Subject, media: { disk: string; cd: string }): Promise<number | null> {
  // A boot that runs short of RAM panics (panic=-1 restarts, and QEMU stops), or waits in a shell: 90 s is ample.
  const boots = async (mib: number) => (await sample(subject, `bench-ram-${slug(subject)}-${mib}`, media, { icount: true, memoryMiB: mib, timeoutMs: 90_000 })) !== null;
  let lo = 64; // assumed too little for every tool
  let hi = 512;
  if (!(await boots(hi))) return null;
  while (hi - lo > 16) {
    const mid = lo + Math.floor((hi - lo) / 32) * 16;
    if (await boots(mid)) hi = mid;
    else lo = mid;
  }
  return hi;
}

const fmt = (values: readonly number[], digits: number) => `${median(values).toFixed(digits)} (${spread(values)[0].toFixed(digits)}–${spread(values)[1].toFixed(digits)})`;
const mib = (bytes: number) => (bytes / 1048576).toFixed(1);

interface Row {
  readonly subject: Subject;
  readonly samples: Sample[];
  readonly wall: Sample[];
  ram: number | null;
  readonly imageBytes: number;
  readonly unpackedBytes: number;
}

/** Each row against cowboot's (on a disk or the network, in the same mode; on the CD, its one row): cowboot / tool. */
function ratio(rows: readonly Row[], row: Row, get: (r: Row) => number | null): string {
  const ours = rows.find((r) => r.subject.tool === 'cowboot' && r.subject.group === row.subject.group && (r.subject.group === 'live CD' || r.subject.mode === row.subject.mode));
  const a = ours ? get(ours) : null;
  const b = get(row);
  return a !== null && b !== null && b > 0 ? (a / b).toFixed(2) : '—';
}

function tables(rows: readonly Row[], runs: number, wallRuns: number): string {
  const out = [
    `Instruction-counted (QEMU -icount shift=0,sleep=off, 1 vCPU, 1 GiB): guest seconds, median of ${runs} boots (spread). "power-on" is the kernel's start; ratios are cowboot / the tool, so below 1 means cowboot is faster or smaller.`,
    '',
    '| group | mode | tool | power-on → root init (s) | kernel → /init (s) | handoff (s) | MemAvailable at root init (MiB) | least RAM (MiB) | image (MiB) | unpacked (MiB) | build (s) | cowboot / tool: power-on, handoff, least RAM, image |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const s = row.samples;
    const ratios = [
      ratio(rows, row, (r) => median(r.samples.map((x) => x.total))),
      ratio(rows, row, (r) => median(r.samples.map((x) => x.handoff))),
      ratio(rows, row, (r) => r.ram),
      ratio(rows, row, (r) => r.imageBytes),
    ].join(', ');
    out.push(
      `| ${row.subject.group} | ${row.subject.mode} | ${row.subject.tool} | ${fmt(s.map((x) => x.total), 2)} | ${fmt(s.map((x) => x.toInit), 2)} | ${fmt(s.map((x) => x.handoff), 2)} | ${fmt(s.map((x) => x.memKiB / 1024), 0)} | ${row.ram ?? '> 512'} | ${mib(row.imageBytes)} | ${mib(row.unpackedBytes)} | ${row.subject.buildSeconds?.toFixed(1) ?? '—'} | ${ratios} |`,
    );
  }
  // The wall clock is timed on the disk only: a run without that group has no such table.
  if (!rows.some((r) => r.wall.length > 0)) return `${out.join('\n')}\n`;
  out.push('', `Wall clock under plain TCG (2 vCPUs, 1 GiB), host seconds from QEMU's start to the root's init, median of ${wallRuns} boots (spread). These charge for QEMU translating code, which a real CPU never pays, and move with the host's load.`, '');
  out.push('| mode | tool | QEMU start → root init (s) | handoff, guest clock (s) |', '|---|---|---|---|');
  for (const row of rows.filter((r) => r.wall.length > 0)) out.push(`| ${row.subject.mode} | ${row.subject.tool} | ${fmt(row.wall.map((x) => x.wall ?? 0), 2)} | ${fmt(row.wall.map((x) => x.handoff), 2)} |`);
  return `${out.join('\n')}\n`;
}

/** Where each tool's time goes, per group and mode: the kernel up to /init, then the handoff. */
function svgChart(rows: readonly Row[]): string {
  const width = 760;
  const barH = 18;
  const left = 250;
  const max = Math.max(...rows.map((r) => median(r.samples.map((s) => s.total)))) * 1.15;
  const x = (v: number) => (v / max) * (width - left - 60);
  const parts: string[] = [];
  rows.forEach((row, i) => {
    const y = 40 + i * (barH + 6);
    const toInit = median(row.samples.map((s) => s.toInit));
    const handoff = median(row.samples.map((s) => s.handoff));
    const label = row.subject.group === 'disk' ? `disk, ${row.subject.mode}` : row.subject.group;
    parts.push(`<text x="10" y="${y + barH - 5}" font-size="12">${label}: ${row.subject.tool}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${x(toInit)}" height="${barH}" fill="#bbb"/>`);
    parts.push(`<rect x="${left + x(toInit)}" y="${y}" width="${x(handoff)}" height="${barH}" fill="${row.subject.tool.startsWith('cowboot') ? '#2b7bb9' : '#d98b2b'}"/>`);
    parts.push(`<text x="${left + x(toInit + handoff) + 6}" y="${y + barH - 5}" font-size="12">${(toInit + handoff).toFixed(2)} s</text>`);
  });
  const height = 60 + rows.length * (barH + 6);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><text x="10" y="18" font-size="14">Kernel start → /init (grey), then /init → the root's init (colour); instruction-counted guest seconds, medians</text>${parts.join('')}</svg>\n`;
}

/** Our image, built with `args`, and how long cowboot build took. */
function timedBuild(name: string, args: readonly string[] = []): { image: string; seconds: number } {
  const started = performance.now();
  const image = buildImage(name, args, BENCH_RELEASE);
  return { image, seconds: (performance.now() - started) / 1000 };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, 'wall-runs': { type: 'string', default: '2' }, 'no-ram': { type: 'boolean', default: false }, only: { type: 'string' } } });
  const runs = Number(values.runs);
  const wallRuns = Number(values['wall-runs']);
  const only = values.only === undefined ? null : values.only.split(',');
  const unknown = only?.filter((g) => !(GROUPS as readonly string[]).includes(g)) ?? [];
  if (unknown.length > 0) throw new Error(`--only ${values.only}: ${unknown.join(', ')} is not a group; the groups are ${GROUPS.join(', ')}`);
  const groups = (only ?? GROUPS) as readonly Group[];
  const started = performance.now();
  // Each image is built once, when a group in this run boots it.
  const builds = new Map<string, { image: string; seconds: number }>();
  const built = (name: string, args: readonly string[] = []) => builds.get(name) ?? builds.set(name, timedBuild(name, args)).get(name)!;
  const ours = () => built('bench');
  // Today's layout before the runtime's image, for the same modes: Node among the files the kernel unpacks.
  const inCpio = () => built('bench-cpio', ['--pack-runtime', 'cpio']);
  const inLz4 = () => built('bench-lz4', ['--pack-runtime', 'squashfs-lz4']);
  // The image with nbd-client, for both network rows alike.
  const withNbd = () => built('bench-nbd', ['--volumes', 'nbd']);
  const peers: PeerImage[] = peerImages(PEERS.filter((peer) => groups.includes(PEER_GROUPS[peer])));
  const squashfs = benchSquashfs();
  const media = { disk: groups.includes('disk') ? benchDisk() : '', cd: groups.includes('live CD') ? benchCd(squashfs) : '' };
  const servers: BenchServers | null = groups.includes('network') ? await serveBenchImage(squashfs) : null;
  const subjects: Subject[] = [];
  const ourSubject = (group: Group, mode: string, tool: string, image: { image: string; seconds: number }, append: string): Subject => ({ group, mode, tool, image: image.image, append, buildSeconds: image.seconds });
  if (groups.includes('disk')) {
    for (const mode of DISK_MODES) {
      subjects.push(ourSubject('disk', mode, 'cowboot', ours(), `root=/dev/vda ${OUR_PARAMS[mode]}`));
      if (mode === 'overlayfs') {
        subjects.push(ourSubject('disk', mode, IN_CPIO, inCpio(), `root=/dev/vda ${OUR_PARAMS[mode]}`));
        subjects.push(ourSubject('disk', mode, IN_LZ4, inLz4(), `root=/dev/vda ${OUR_PARAMS[mode]}`));
      }
      subjects.push({ group: 'disk', mode, tool: 'seed script', image: referenceImage(ours().image, mode), append: 'root=/dev/vda', buildSeconds: null });
    }
  }
  // dracut snapshots a squashfs root only through overlayfs. With systemd, its
  // sysroot.mount fails first ("overlayfs: failed to resolve
  // '/run/overlayfs'", dracut-ng issue 431) and its own script mounts the
  // root after; the boot goes on.
  const PEER_PARAMS: Record<PeerImage['peer'], string> = {
    'dracut-shell': `root=live:CDLABEL=${CD_LABEL} rd.live.image rd.live.overlay.overlayfs`,
    'dracut-systemd': `root=live:CDLABEL=${CD_LABEL} rd.live.image rd.live.overlay.overlayfs`,
    'live-boot': 'boot=live',
    'dracut-livenet': `root=live:${servers?.url} rd.live.image rd.live.overlay.overlayfs ip=dhcp rd.neednet=1`,
    'live-boot-fetch': `boot=live fetch=${servers?.url}`,
  };
  const peerSubject = (peer: PeerImage, group: Group, mode: string): Subject => ({ group, mode, tool: peer.peer, image: peer.image, append: PEER_PARAMS[peer.peer], buildSeconds: peer.buildSeconds });
  if (groups.includes('live CD')) {
    const cdParams = `root=LABEL=${CD_LABEL} loop=/live/filesystem.squashfs overlay=overlayfs`;
    subjects.push(ourSubject('live CD', 'overlayfs', 'cowboot', ours(), cdParams));
    subjects.push(ourSubject('live CD', 'overlayfs', IN_CPIO, inCpio(), cdParams));
    for (const peer of peers.filter((p) => PEER_GROUPS[p.peer] === 'live CD')) subjects.push(peerSubject(peer, 'live CD', 'overlayfs'));
  }
  if (servers) {
    subjects.push(ourSubject('network', 'HTTP', 'cowboot', withNbd(), `root=live:${servers.url} overlay=overlayfs`));
    for (const peer of peers.filter((p) => PEER_GROUPS[p.peer] === 'network')) subjects.push(peerSubject(peer, 'network', 'HTTP'));
    subjects.push(ourSubject('network', 'NBD', 'cowboot', withNbd(), `root=${servers.nbdRoot} overlay=overlayfs`));
  }

  const rows: Row[] = subjects.map((subject) => ({ subject, samples: [], wall: [], ram: null, imageBytes: statSync(subject.image).size, unpackedBytes: unpackedSize(subject.image) }));
  // Rounds over every subject, so a slow stretch of the host falls on all of them.
  for (let run = 0; run < runs; run++) {
    for (const row of rows) {
      const { subject } = row;
      const s = await sample(subject, `bench-${slug(subject)}-${run}`, media, { icount: true });
      if (s === null) throw new Error(`${subject.tool} (${subject.group}, ${subject.mode}) did not reach its root's init; see .cache/vm/logs`);
      row.samples.push(s);
      process.stderr.write(`${subject.group} ${subject.mode} ${subject.tool} run ${run + 1}: power-on → root init ${s.total.toFixed(3)} s, /init at ${s.toInit.toFixed(3)} s, handoff ${s.handoff.toFixed(3)} s, MemAvailable ${s.memKiB} KiB\n`);
    }
  }
  for (let run = 0; run < wallRuns; run++) {
    for (const row of rows.filter((r) => r.subject.group === 'disk')) {
      const s = await sample(row.subject, `bench-wall-${slug(row.subject)}-${run}`, media, { icount: false });
      if (s === null) throw new Error(`${row.subject.tool} (${row.subject.mode}) did not reach its root's init under plain TCG`);
      row.wall.push(s);
    }
  }
  if (!values['no-ram']) {
    for (const row of rows) {
      row.ram = await leastRam(row.subject, media);
      process.stderr.write(`${row.subject.group} ${row.subject.mode} ${row.subject.tool}: least RAM ${row.ram ?? '> 512'} MiB\n`);
    }
  }
  await servers?.stop();
  const minutes = (performance.now() - started) / 60000;
  const table = `${tables(rows, runs, wallRuns)}\nPeers: ${[...new Set(peers.map((p) => p.versions))].join('; ')}. The whole run took ${minutes.toFixed(0)} minutes.\n`;
  const out = join(PROJECT_DIR, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  // A run of some groups only writes its own files and its own section of docs/benchmarks.md, leaving the whole run's.
  const name = only === null ? 'bench' : `bench-${groups.join('-').replaceAll(' ', '-')}`;
  const json = rows.map((r) => ({ ...r.subject, ram: r.ram, imageBytes: r.imageBytes, unpackedBytes: r.unpackedBytes, samples: r.samples, wall: r.wall }));
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify({ runs, wallRuns, peers, rows: json }, null, 2)}\n`);
  writeFileSync(join(out, `${name}.md`), table);
  writeFileSync(join(out, `${name === 'bench' ? 'time' : name}.svg`), svgChart(rows));
  const readmePath = join(PROJECT_DIR, 'docs', 'benchmarks.md');
  const readme = readFileSync(readmePath, 'utf8');
  const marked = new RegExp(`<!-- ${name}:start -->\\n[\\s\\S]*?<!-- ${name}:end -->`);
  const chart = `../bench/results/${name === 'bench' ? 'time' : name}.svg`;
  if (marked.test(readme)) writeFileSync(readmePath, readme.replace(marked, `<!-- ${name}:start -->\n${table}\n![where each tool spends its time](${chart})\n<!-- ${name}:end -->`));
  process.stdout.write(table);
}

await main();
