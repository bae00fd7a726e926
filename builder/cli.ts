// node build.mjs bundle | initramfs -o FILE [options]

import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeProblem, normalizeConfigText } from '../src/config';
import { modulesDir } from '../src/image-layout';
import { hashPassword } from '../src/password';
import { bundleInit, RUNTIMES } from './bundle';
import { compressFile } from './compress';
import { writeCpio } from './cpio';
import { type Compression, COMPRESSIONS, FORMATS, isCompression } from './formats';
import { BuildError } from './host';
import { collectImage, defaultKernelVersion, type Part } from './image';
import { fileContent, listing, readImage } from './inspect';

const USAGE = `usage:
  node build.mjs bundle
  node build.mjs initramfs -o FILE [--kernel-version VER] [--kmoddir DIR] [--compress ${COMPRESSIONS.join('|')}] [--compress-level N] [--config FILE]
                           [--host-only] [--add-module NAME]... [--add-file SRC:DEST]... [--runtime node|bun]
  node build.mjs list IMAGE
  node build.mjs cat IMAGE PATH
  node build.mjs hash-password < password-file     (prints a value for "rd.rescue-password" in --config)`;

function progress(line: string): void {
  process.stderr.write(`cowboot-build: ${line}\n`);
}

function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

function sourceDateEpoch(): number {
  const value = process.env.SOURCE_DATE_EPOCH;
  if (value === undefined || value === '') return 0;
  if (!/^\d+$/.test(value)) throw new BuildError(`SOURCE_DATE_EPOCH=${value} is not valid: expected a whole number of seconds`);
  return Number(value);
}

function readConfig(path: string | undefined): string {
  if (path === undefined) return '{}\n';
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new BuildError(`--config ${path}: ${(error as Error).message}`);
  }
  const { json, problems } = normalizeConfigText(text, path);
  if (problems.length > 0) throw new BuildError(problems.map(describeProblem).join('\n'));
  return json;
}

function compressLevel(compress: Compression, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const format = FORMATS[compress];
  if (format.kind === 'uncompressed') throw new BuildError('--compress-level needs a --compress other than none');
  const { min, max } = format.levels;
  const level = Number(text);
  if (!/^\d+$/.test(text) || level < min || level > max) throw new BuildError(`--compress-level ${text} is not valid for ${compress}: expected ${min} to ${max}`);
  return level;
}

function parseAddFile(spec: string): { source: string; dest: string } {
  const colon = spec.lastIndexOf(':');
  const source = spec.slice(0, colon);
  const dest = spec.slice(colon + 1);
  if (colon <= 0 || !dest.startsWith('/')) throw new BuildError(`--add-file ${spec} is not valid: expected SRC:DEST with an absolute DEST, such as ./motd:/etc/motd`);
  return { source, dest };
}

async function initramfs(projectDir: string, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      output: { type: 'string', short: 'o' },
      'kernel-version': { type: 'string' },
      kmoddir: { type: 'string' },
      compress: { type: 'string', default: 'zstd' },
      'compress-level': { type: 'string' },
      config: { type: 'string' },
      'host-only': { type: 'boolean', default: false },
      'add-module': { type: 'string', multiple: true, default: [] },
      'add-file': { type: 'string', multiple: true, default: [] },
      runtime: { type: 'string', default: 'node' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.output) throw new BuildError(`-o FILE is required\n${USAGE}`);
  const compress = values.compress;
  if (!isCompression(compress)) throw new BuildError(`--compress ${compress} is not valid: expected one of ${COMPRESSIONS.join(', ')}`);
  const level = compressLevel(compress, values['compress-level']);
  const runtime = RUNTIMES.find((r) => r === values.runtime);
  if (!runtime) throw new BuildError(`--runtime ${values.runtime} is not valid: expected one of ${RUNTIMES.join(', ')}`);
  const kernelVersion = values['kernel-version'] ?? defaultKernelVersion(values.kmoddir, release());
  const kmoddir = values.kmoddir ?? modulesDir(kernelVersion);
  const configJson = readConfig(values.config);
  const output = resolve(values.output);

  progress('bundling /init');
  const bundlePath = await bundleInit(projectDir, runtime);
  const parts = collectImage({
    projectDir,
    cacheDir: join(projectDir, '.cache', 'build'),
    bundlePath,
    kernelVersion,
    kmoddir,
    configJson,
    runtime,
    hostOnly: values['host-only'],
    extraModules: values['add-module'],
    extraFiles: values['add-file'].map(parseAddFile),
    progress,
  });
  progress(`writing cpio (${parts.length} entries)`);
  const chunks = writeCpio(parts.map((p) => p.entry), sourceDateEpoch());
  await writeImage(chunks, output, compress, level);
  summary(parts, output);
}

// Written beside the output and renamed over it, so a failed build never leaves half an image.
async function writeImage(chunks: Uint8Array[], output: string, compress: Compression, level: number | undefined): Promise<void> {
  mkdirSync(dirname(output), { recursive: true });
  const cpioTmp = `${output}.cpio-${process.pid}.tmp`;
  const outTmp = `${output}.${process.pid}.tmp`;
  try {
    const fd = openSync(cpioTmp, 'w');
    try {
      for (const chunk of chunks) writeSync(fd, chunk);
    } finally {
      closeSync(fd);
    }
    progress(`compressing with ${compress}${level === undefined ? '' : ` -${level}`}`);
    compressFile(compress, cpioTmp, outTmp, level);
    renameSync(outTmp, output);
  } finally {
    rmSync(cpioTmp, { force: true });
    rmSync(outTmp, { force: true });
  }
}

function summary(parts: ReturnType<typeof collectImage>, output: string): void {
  const sizes = new Map<Part, number>();
  for (const { part, entry } of parts) sizes.set(part, (sizes.get(part) ?? 0) + (entry.kind === 'file' ? entry.data.length : 0));
  const rows = [...sizes.entries()].map(([part, size]) => `${part} ${mib(size)}`).join(', ');
  progress(`wrote ${output}: ${mib(statSync(output).size)} compressed; uncompressed by part: ${rows}`);
}

export async function main(projectDir: string, argv: string[]): Promise<number> {
  // `node build.mjs cat IMAGE PATH | head` closes the pipe early: not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'bundle':
        progress(`wrote ${await bundleInit(projectDir)}`);
        return 0;
      case 'initramfs':
        await initramfs(projectDir, rest);
        return 0;
      case 'list': {
        if (rest.length !== 1) throw new BuildError(`list takes one IMAGE\n${USAGE}`);
        process.stdout.write(listing(readImage(rest[0]!)));
        return 0;
      }
      case 'cat': {
        if (rest.length !== 2) throw new BuildError(`cat takes IMAGE and PATH\n${USAGE}`);
        process.stdout.write(fileContent(readImage(rest[0]!), rest[1]!));
        return 0;
      }
      case 'hash-password': {
        const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
        if (password === '') throw new BuildError('hash-password: give the password on standard input');
        process.stdout.write(`${hashPassword(password)}\n`);
        return 0;
      }
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  } catch (error) {
    if (error instanceof BuildError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`cowboot-build: error: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}


