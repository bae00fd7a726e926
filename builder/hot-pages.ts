// The pages that start Node, cut from its binary into node.hot, a plain
// file the image carries beside the runtime's squashfs image (see
// hot/hot-pages.c, which maps them at start). squashfs decompresses a whole
// 1 MiB block for each page Node faults in, so its start decompressed about
// three times what it reads; from node.hot those pages cost nothing.
//
// The set is recorded here, on the build machine, by running the binary
// itself four ways (--version, as the first step checks it; -e 0; the
// bundle in plan mode; what the boot does besides) under hot/record-pages.c, which reads the process's
// own page table as it exits. Plus V8's embedded builtins, whole: V8 may
// remap that blob, which must then be one mapping.

import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ElfSegment, fileOffset, findObjects, loadSegments } from './elf';
import { BuildError, findTool, TOOLS } from './host';
import { HOT_PAGES, RUNTIME_IMAGE } from '../src/layout/image-paths';

export const PAGE = 4096;
const MAGIC = 0x31544f48574f43n; // "COWHOT1", as hot-pages.c reads it
const HEADER_BYTES = 80;
const RUN_BYTES = 32;
// Runs this close are merged: a mapping per run costs more than a few pages.
const MERGE_GAP_PAGES = 4;
const PROT_READ = 1;
const PROT_EXEC = 4;

export interface HotRun {
  readonly vaddr: number;
  readonly bytes: number;
  readonly prot: number;
}

/** The runs to map: `pages` (addresses) and the `whole` ranges, within the read-only segments, merged where close. */
export function hotRuns(segments: readonly ElfSegment[], pages: Iterable<number>, whole: readonly { vaddr: number; bytes: number }[]): HotRun[] {
  const wanted = new Set<number>();
  for (const page of pages) wanted.add(page - (page % PAGE));
  for (const { vaddr, bytes } of whole) for (let page = vaddr - (vaddr % PAGE); page < vaddr + bytes; page += PAGE) wanted.add(page);
  const runs: HotRun[] = [];
  for (const segment of segments.filter((s) => !s.writable)) {
    const start = segment.vaddr - (segment.vaddr % PAGE);
    const end = Math.ceil((segment.vaddr + segment.filesz) / PAGE) * PAGE;
    const prot = PROT_READ | (segment.executable ? PROT_EXEC : 0);
    let run: { vaddr: number; end: number } | null = null;
    for (const page of [...wanted].filter((p) => p >= start && p < end).sort((a, b) => a - b)) {
      if (run && page - run.end <= MERGE_GAP_PAGES * PAGE) run.end = page + PAGE;
      else {
        if (run) runs.push({ vaddr: run.vaddr, bytes: run.end - run.vaddr, prot });
        run = { vaddr: page, end: page + PAGE };
      }
    }
    if (run) runs.push({ vaddr: run.vaddr, bytes: run.end - run.vaddr, prot });
  }
  return runs;
}

/** hot-pages.c's checksum: a 64-bit sum of little-endian words, rotated left by 7 before each. */
export function hotSum(data: Buffer): bigint {
  const mask = (1n << 64n) - 1n;
  let sum = 0n;
  for (let at = 0; at < data.length; at += 8) sum = ((((sum << 7n) | (sum >> 57n)) & mask) + data.readBigUInt64LE(at)) & mask;
  return sum;
}

/** hot-pages.c's identity of the runtime's squashfs image: hotSum over its tables, from the superblock's inode table to its bytes used. */
export function imageSum(squashfs: Buffer): bigint {
  const used = Number(squashfs.readBigUInt64LE(40));
  const tables = Number(squashfs.readBigUInt64LE(64)) & ~7;
  return hotSum(squashfs.subarray(tables, tables + Math.floor((used - tables) / 8) * 8));
}

/** The build ID note's bytes, and where they lie once the binary is mapped: node.hot names its binary by them. */
export function buildId(binary: Buffer, segments: readonly ElfSegment[]): { vaddr: number; id: Buffer } {
  // An ELF note: name size, descriptor size, type (3, NT_GNU_BUILD_ID), "GNU\0", then the ID.
  for (let at = binary.indexOf('GNU\0', 0, 'latin1'); at >= 12 && at < PAGE; at = binary.indexOf('GNU\0', at + 1, 'latin1')) {
    if (binary.readUInt32LE(at - 12) === 4 && binary.readUInt32LE(at - 8) === 20 && binary.readUInt32LE(at - 4) === 3) {
      const first = segments.find((s) => s.offset === 0);
      if (first) return { vaddr: first.vaddr + at + 4, id: binary.subarray(at + 4, at + 24) };
    }
  }
  throw new BuildError('the runtime has no 20-byte GNU build ID in its first page, which node.hot names its binary by');
}

/** node.hot: a header, the runs, then each run's pages as the binary holds them (hot-pages.c reads it); `squashfs` is the runtime's image, which holds `binary`. */
export function hotFile(binary: Buffer, runs: readonly HotRun[], squashfs: Buffer): Buffer {
  const segments = loadSegments(binary);
  const { vaddr: idVaddr, id } = buildId(binary, segments);
  const dataOffset = Math.ceil((HEADER_BYTES + runs.length * RUN_BYTES) / PAGE) * PAGE;
  const table = Buffer.alloc(dataOffset - HEADER_BYTES);
  const chunks: Buffer[] = [];
  let at = dataOffset;
  runs.forEach((run, i) => {
    const offset = fileOffset(segments, run.vaddr, 1);
    if (offset === null) throw new BuildError(`node.hot: the page at 0x${run.vaddr.toString(16)} is in no segment of the runtime`);
    const pages = Buffer.alloc(run.bytes);
    binary.copy(pages, 0, offset, Math.min(offset + run.bytes, binary.length));
    table.writeBigUInt64LE(BigInt(run.vaddr), i * RUN_BYTES);
    table.writeBigUInt64LE(BigInt(run.bytes), i * RUN_BYTES + 8);
    table.writeBigUInt64LE(BigInt(at), i * RUN_BYTES + 16);
    table.writeUInt32LE(run.prot, i * RUN_BYTES + 24);
    chunks.push(pages);
    at += run.bytes;
  });
  const data = Buffer.concat(chunks);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeBigUInt64LE(MAGIC, 0);
  header.writeBigUInt64LE(BigInt(idVaddr), 8);
  id.copy(header, 16);
  header.writeUInt32LE(runs.length, 36);
  header.writeBigUInt64LE(BigInt(dataOffset), 40);
  header.writeBigUInt64LE(BigInt(data.length), 48);
  header.writeBigUInt64LE(hotSum(data), 56);
  header.writeBigUInt64LE(BigInt(squashfs.length), 64);
  header.writeBigUInt64LE(imageSum(squashfs), 72);
  return Buffer.concat([header, table, data]);
}

/** V8's embedded builtins in Node's unstripped binary: where the code starts, and its size, which V8 keeps beside it. */
export function embeddedBuiltins(unstripped: Buffer): { vaddr: number; bytes: number } {
  const symbols = findObjects(unstripped, /^v8_Default_embedded_blob_code_(size_)?$/, 'symtab');
  const code = symbols.find((s) => s.name === 'v8_Default_embedded_blob_code_');
  const size = symbols.find((s) => s.name === 'v8_Default_embedded_blob_code_size_');
  if (!code || !size) throw new BuildError("the runtime's V8 embedded builtins (v8_Default_embedded_blob_code_) are not among its symbols; build with --hot-pages no");
  return { vaddr: code.vaddr, bytes: unstripped.readUInt32LE(size.offset) };
}

const AUDIT_FLAGS = ['-O2', '-shared', '-fPIC', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-builtin', '-Wall', '-Wextra', '-Werror'];
const RECORDER_FLAGS = ['-O2', '-shared', '-fPIC', '-Wall', '-Wextra', '-Werror'];

/** Compiles `source` from `sources` (the repository's builder/hot). */
function compile(sources: string, source: string, flags: readonly string[], output: string): void {
  try {
    execFileSync(findTool(TOOLS.cc), [...flags, '-o', output, join(sources, source)], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    throw new BuildError(`cc ${source} failed (it needs gcc and libc6-dev: apt-get install gcc libc6-dev): ${(error as Error).message}`);
  }
}

/** hot-pages.so, the module the image's first step runs Node with (LD_AUDIT), reading `hot` and `image` (the image's paths unless told). */
export function compileHotPages(sources: string, output: string, hot = HOT_PAGES, image = RUNTIME_IMAGE): void {
  compile(sources, 'hot-pages.c', [...AUDIT_FLAGS, `-DHOT_PATH="${hot}"`, `-DIMAGE_PATH="${image}"`], output);
}

// The module, built to read the files just made, run with the binary they
// were made from: it must map every run, and Node must start and print
// what it prints without them.
function checkHotFile(sources: string, binary: string, squashfs: string, hot: string, runs: readonly HotRun[], work: string): void {
  const module = join(work, 'check.so');
  compileHotPages(sources, module, hot, squashfs);
  // Each run must be mapped from the file; V8 may map its builtins a second time (on a machine with the RAM for its short builtin calls).
  const script = "process.stdout.write(JSON.stringify(require('node:fs').readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith(' ' + process.argv[1])).map((l) => l.split(' ')[0].split('-').map((x) => parseInt(x, 16)))))";
  const mapped = JSON.parse(execFileSync(binary, ['-e', script, hot], { env: { LD_AUDIT: module }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as [number, number][];
  const covered = (at: number) => mapped.some(([start, end]) => at >= start && at < end);
  const missed = runs.filter((run) => !covered(run.vaddr) || !covered(run.vaddr + run.bytes - 1));
  if (missed.length > 0) throw new BuildError(`node.hot: the hot-pages module left ${missed.length} of its ${runs.length} runs unmapped over ${binary} (the first at 0x${missed[0]!.vaddr.toString(16)})`);
  const version = (env: NodeJS.ProcessEnv) => execFileSync(binary, ['--version'], { env, encoding: 'utf8' });
  if (version({ LD_AUDIT: module }) !== version({})) throw new BuildError(`node.hot: ${binary} --version prints otherwise with its hot pages`);
}

// What the boot does that plan mode does not, so its native code is
// recorded too: child processes with pipes, node:ffi, files, links,
// hashes and signatures, timers and signal handlers.
const WARM_UP = `
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const crypto = require('node:crypto');
process.removeAllListeners('warning');
process.on('SIGUSR1', () => {});
setInterval(() => {}, 1000).unref();
try {
  process.getBuiltinModule('node:ffi')?.dlopen(null, { waitpid: { arguments: ['i32', 'pointer', 'i32'], return: 'i32' } }).functions.waitpid(-1, 0n, 1);
} catch {}
const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'cowboot-warm-up-'));
fs.writeFileSync(path.join(dir, 'a'), 'text\\n', { mode: 0o644 });
fs.appendFileSync(path.join(dir, 'a'), 'more\\n');
fs.readFileSync(path.join(dir, 'a'), 'utf8').split('\\n');
fs.symlinkSync('a', path.join(dir, 'b'));
fs.readlinkSync(path.join(dir, 'b'));
fs.realpathSync(path.join(dir, 'b'));
fs.mkdirSync(path.join(dir, 'c', 'd'), { recursive: true });
fs.readdirSync(dir, { withFileTypes: true }).map((e) => [e.isDirectory(), fs.lstatSync(path.join(dir, e.name)).mode]);
const fd = fs.openSync(path.join(dir, 'a'), 'r');
fs.readSync(fd, Buffer.alloc(4), 0, 4, 0);
fs.closeSync(fd);
fs.existsSync(path.join(dir, 'none'));
crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, 'a'))).digest('hex');
const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
crypto.verify(null, Buffer.from('x'), crypto.createPublicKey(publicKey.export({ type: 'spki', format: 'pem' })), crypto.sign(null, Buffer.from('x'), privateKey));
crypto.randomBytes(8).toString('hex');
spawnSync('true', [], { env: { PATH: '/usr/bin:/bin' } });
const child = spawn('sh', ['-c', 'echo out; echo err >&2'], { env: { PATH: '/usr/bin:/bin' }, stdio: ['pipe', 'pipe', 'pipe'] });
let out = '';
child.stdout.on('data', (d) => (out += d));
child.stderr.on('data', (d) => (out += d));
child.stdin.on('error', () => {});
child.stdin.end('input');
child.on('exit', () => setTimeout(() => { fs.rmSync(dir, { recursive: true, force: true }); JSON.stringify({ out }); }, 10));
`;

/** The runs the pages are recorded from. */
function recordingRuns(bundle: string): string[][] {
  return [['--version'], ['-e', '0'], [bundle, 'plan', '--cmdline', 'root=/dev/vda overlay=overlayfs'], ['-e', WARM_UP]];
}

/**
 * The pages of `binary` that its four runs touch (the bundle's plan mode
 * among them), recorded in `work` from a copy of it: the copy's pages leave the
 * page cache as it starts, so each is mapped only once read.
 */
export function recordHotPages(sources: string, binary: string, bundle: string, work: string): number[] {
  mkdirSync(work, { recursive: true });
  const recorder = join(work, 'record-pages.so');
  const copy = join(work, 'runtime');
  const record = join(work, 'pages.txt');
  compile(sources, 'record-pages.c', RECORDER_FLAGS, recorder);
  copyFileSync(binary, copy);
  // Written pages are dirty and would stay cached: on disk first.
  const fd = openSync(copy, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  rmSync(record, { force: true });
  const env = { LD_AUDIT: recorder, COWBOOT_HOT_RECORD: record, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  for (const args of recordingRuns(bundle)) {
    try {
      execFileSync(copy, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const what = args[0] === '-e' && args[1] !== '0' ? '-e WARM_UP' : args.join(' ');
      throw new BuildError(`recording the runtime's start (${what}) failed: ${(error as Error).message}`);
    }
  }
  if (!existsSync(record)) throw new BuildError('recording the runtime\'s start wrote no pages');
  return readFileSync(record, 'utf8').trim().split('\n').map((line) => Number.parseInt(line, 16));
}

/** node.hot.lz4 for `binary`, packed as `squashfs`, in `output`: recorded, cut, compressed (the first step decompresses it with lz4). */
export function makeHotFile(sources: string, binary: string, unstripped: string, squashfs: string, bundle: string, output: string, progress: (line: string) => void): void {
  const work = `${output}.work-${process.pid}`;
  try {
    const bytes = readFileSync(binary);
    const pages = recordHotPages(sources, binary, bundle, work);
    const runs = hotRuns(loadSegments(bytes), pages, [embeddedBuiltins(readFileSync(unstripped))]);
    const hot = hotFile(bytes, runs, readFileSync(squashfs));
    const plain = join(work, 'node.hot');
    writeFileSync(plain, hot);
    checkHotFile(sources, binary, squashfs, plain, runs, work);
    execFileSync(findTool(TOOLS.lz4), ['-q', '-f', '-9', plain, `${output}.tmp`], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(`${output}.tmp`, output);
    progress(`node.hot: ${new Set(pages).size} pages touched as the runtime started, in ${runs.length} runs with V8's builtins: ${(runs.reduce((n, r) => n + r.bytes, 0) / 1048576).toFixed(1)} MiB`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
