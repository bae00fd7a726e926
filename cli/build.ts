// cowboot build: packs an initramfs for one kernel, from the clone or the
// installed copy (assets.ts says which).

import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { release } from 'node:os';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { describeProblem, normalizeConfigText } from '../src/config';
import { modulesDir } from '../src/layout/image-paths';
import { formatMiB as mib } from '../src/formats/size';
import { type Runtime, RUNTIMES } from '../builder/bundle';
import { compressFile } from '../builder/compress';
import { writeCpio } from '../builder/cpio';
import { type Compression, COMPRESSIONS, FORMATS, isCompression } from '../builder/formats';
import { BuildError } from '../builder/host';
import { DEFAULT_ICU, ICU_MODES, type IcuMode } from '../builder/icu';
import { collectImage, defaultKernelVersion, type Part, type PartEntry, RUNTIME_PACK_NAMES, RUNTIME_PACKS, type RuntimePack } from '../builder/image';
import type { Assets } from './assets';
import type { PackedKey } from '../src/net/image-signature';
import { parseVolumesOption, type VolumesOption } from '../builder/volume-tools';

export function progress(line: string): void {
  process.stderr.write(`cowboot: ${line}\n`);
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

export const BUILD_USAGE = `cowboot build -o FILE [--kernel-version VER] [--kmoddir DIR] [--compress ${COMPRESSIONS.join('|')}] [--compress-level N]
              [--config FILE] [--host-only] [--add-module NAME]... [--add-file SRC:DEST]... [--runtime node|bun]
              [--pack-runtime ${RUNTIME_PACK_NAMES.join('|')}] [--icu ${ICU_MODES.join('|')}] [--hot-pages yes|no] [--volumes auto|none|lvm,luks,md,nbd] [--ca FILE|none] [--add-key FILE]...`;

/** What to pack: the command's options, checked. */
export interface BuildRequest {
  readonly output: string;
  readonly kernelVersion: string;
  readonly kmoddir: string;
  readonly compress: Compression;
  readonly level: number | undefined;
  readonly configJson: string;
  readonly runtime: Runtime;
  readonly pack: RuntimePack;
  /** --icu: how much of Node's ICU data the image keeps. */
  readonly icu: IcuMode;
  /** --hot-pages: Node's start-up pages beside its squashfs image (hot-pages.ts). */
  readonly hotPages: boolean;
  readonly hostOnly: boolean;
  readonly extraModules: readonly string[];
  readonly extraFiles: readonly { readonly source: string; readonly dest: string }[];
  readonly volumes: VolumesOption;
  /** The CA bundle an https:// fetch trusts; null: none packed. */
  readonly ca: string | null;
  /** --add-key: Ed25519 public keys a fetched image's sums must be signed with. */
  readonly keys: readonly PackedKey[];
}

/** Debian's bundle of the system's trusted CAs (ca-certificates). */
export const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

function caBundle(given: string | undefined): string | null {
  if (given === 'none') return null;
  if (given === undefined) return existsSync(HOST_CA_BUNDLE) ? HOST_CA_BUNDLE : null;
  if (!existsSync(given)) throw new BuildError(`--ca ${given}: no such file (expected a PEM bundle of CA certificates, or none)`);
  return resolve(given);
}

/** --add-key FILE: an Ed25519 key in PEM (a private key gives its public half, which alone is packed), named by its file. */
export function packedKey(path: string): PackedKey {
  const name = basename(path).replace(/\.(pem|pub|key)$/, '');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new BuildError(`--add-key ${path}: the file's name (${name}) names the key for rd.live.pubkey=, and must be letters, digits, dots, dashes and underscores`);
  let key: KeyObject;
  try {
    key = createPublicKey(readFileSync(path));
  } catch (error) {
    throw new BuildError(`--add-key ${path}: ${(error as Error).message} (expected an Ed25519 key in PEM, as openssl genpkey -algorithm ed25519 makes it)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new BuildError(`--add-key ${path}: a ${key.asymmetricKeyType} key; expected Ed25519 (openssl genpkey -algorithm ed25519)`);
  return { name, pem: key.export({ type: 'spki', format: 'pem' }).toString() };
}

function packedKeys(paths: readonly string[]): PackedKey[] {
  const keys = paths.map(packedKey);
  const twice = keys.find((k, i) => keys.findIndex((o) => o.name === k.name) !== i);
  if (twice) throw new BuildError(`--add-key: two keys are named ${twice.name}; rd.live.pubkey= names a key by its file name, so give them different names`);
  return keys;
}

/**
 * --hot-pages yes|no, no by default: for Node in a squashfs image. Under
 * instruction counting they take 0.23 s off the handoff for 14.4 MiB more
 * image, which the lz4 pack beats on both (docs/building.md).
 */
function hotPagesOption(given: string | undefined, runtime: Runtime, pack: RuntimePack): boolean {
  const applies = runtime === 'node' && RUNTIME_PACKS[pack].kind === 'squashfs';
  if (given === undefined) return false;
  if (given !== 'yes' && given !== 'no') throw new BuildError(`--hot-pages ${given} is not valid: expected yes or no`);
  if (given === 'yes' && !applies) throw new BuildError(`--hot-pages yes: hot pages are for Node in a squashfs image (--runtime node, --pack-runtime squashfs or squashfs-lz4), not --runtime ${runtime} --pack-runtime ${pack}`);
  return given === 'yes';
}

export function parseBuildArgs(args: string[]): BuildRequest {
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
      'pack-runtime': { type: 'string', default: 'squashfs' },
      icu: { type: 'string' },
      'hot-pages': { type: 'string' },
      volumes: { type: 'string', default: 'auto' },
      ca: { type: 'string' },
      'add-key': { type: 'string', multiple: true, default: [] },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.output) throw new BuildError(`-o FILE is required\nusage: ${BUILD_USAGE}`);
  const compress = values.compress;
  if (!isCompression(compress)) throw new BuildError(`--compress ${compress} is not valid: expected one of ${COMPRESSIONS.join(', ')}`);
  const runtime = RUNTIMES.find((r) => r === values.runtime);
  if (!runtime) throw new BuildError(`--runtime ${values.runtime} is not valid: expected one of ${RUNTIMES.join(', ')}`);
  const pack = RUNTIME_PACK_NAMES.find((p) => p === values['pack-runtime']);
  if (!pack) throw new BuildError(`--pack-runtime ${values['pack-runtime']} is not valid: expected one of ${RUNTIME_PACK_NAMES.join(', ')}`);
  const icu = values.icu === undefined ? (runtime === 'bun' ? 'full' : DEFAULT_ICU) : ICU_MODES.find((m) => m === values.icu);
  if (!icu) throw new BuildError(`--icu ${values.icu} is not valid: expected one of ${ICU_MODES.join(', ')}`);
  const hotPages = hotPagesOption(values['hot-pages'], runtime, pack);
  const kernelVersion = values['kernel-version'] ?? defaultKernelVersion(values.kmoddir, release());
  return {
    output: resolve(values.output),
    kernelVersion,
    kmoddir: values.kmoddir ?? modulesDir(kernelVersion),
    compress,
    level: compressLevel(compress, values['compress-level']),
    configJson: readConfig(values.config),
    runtime,
    pack,
    icu,
    hotPages,
    hostOnly: values['host-only'],
    extraModules: values['add-module'],
    extraFiles: values['add-file'].map(parseAddFile),
    volumes: parseVolumesOption(values.volumes),
    ca: caBundle(values.ca),
    keys: packedKeys(values['add-key']),
  };
}

async function hotPagesFor(assets: Assets, request: BuildRequest): Promise<{ module: string; packed: string } | null> {
  const packing = RUNTIME_PACKS[request.pack];
  return request.hotPages && packing.kind === 'squashfs' ? assets.runtimeHot(request.icu, packing.compression, progress) : null;
}

export async function buildImage(assets: Assets, request: BuildRequest): Promise<void> {
  progress(assets.kind === 'source' ? 'bundling /init' : `/init and ${request.runtime} from ${assets.home}`);
  const binary = assets.runtimeBinary(request.runtime, request.icu, progress);
  const parts = collectImage({
    ...request,
    skelDir: assets.skelDir,
    bundlePath: await assets.initBundle(request.runtime),
    runtimeBinary: binary.path,
    runtimeIcu: binary.icu,
    runtimeHot: await hotPagesFor(assets, request),
    runtimeImage: (compression) => assets.runtimeImage(request.runtime, request.icu, compression, progress),
    progress,
  });
  progress(`writing cpio (${parts.length} entries)`);
  await writeImage(parts, request.output, request.compress, request.level);
  summary(parts, request.output);
}

// The kernel unpacks concatenated archives, each compressed its own way or
// not at all. Stored entries (an image compressed already, read in place)
// come first, uncompressed, as early microcode does: the kernel finds the
// end of an uncompressed archive by its trailer, while the end of a
// compressed one is not as reliably found by every decompressor.
function segments(parts: readonly PartEntry[], mtime: number): { stored: Uint8Array[] | null; packed: Uint8Array[] } {
  const stored = parts.filter((p) => p.stored).map((p) => p.entry);
  const packed = parts.filter((p) => !p.stored).map((p) => p.entry);
  return { stored: stored.length > 0 ? writeCpio(stored, mtime) : null, packed: writeCpio(packed, mtime) };
}

// Written beside the output and renamed over it, so a failed build never leaves half an image.
async function writeImage(parts: readonly PartEntry[], output: string, compress: Compression, level: number | undefined): Promise<void> {
  const { stored, packed } = segments(parts, sourceDateEpoch());
  mkdirSync(dirname(output), { recursive: true });
  const cpioTmp = `${output}.cpio-${process.pid}.tmp`;
  const outTmp = `${output}.${process.pid}.tmp`;
  try {
    writeChunks(cpioTmp, packed);
    progress(`compressing with ${compress}${level === undefined ? '' : ` -${level}`}`);
    if (stored === null) compressFile(compress, cpioTmp, outTmp, level);
    else {
      writeChunks(outTmp, stored);
      compressFile(compress, cpioTmp, `${outTmp}.packed`, level);
      appendFileSync(outTmp, readFileSync(`${outTmp}.packed`));
    }
    renameSync(outTmp, output);
  } finally {
    rmSync(cpioTmp, { force: true });
    rmSync(outTmp, { force: true });
    rmSync(`${outTmp}.packed`, { force: true });
  }
}

function writeChunks(path: string, chunks: readonly Uint8Array[]): void {
  const fd = openSync(path, 'w');
  try {
    for (const chunk of chunks) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

function summary(parts: ReturnType<typeof collectImage>, output: string): void {
  const sizes = new Map<Part, number>();
  for (const { part, entry } of parts) sizes.set(part, (sizes.get(part) ?? 0) + (entry.kind === 'file' ? entry.data.length : 0));
  const rows = [...sizes.entries()].map(([part, size]) => `${part} ${mib(size)}`).join(', ');
  const stored = parts.filter((p) => p.stored).map(({ entry }) => `${entry.path} (${entry.kind === 'file' ? mib(entry.data.length) : ''})`);
  progress(`wrote ${output}: ${mib(statSync(output).size)} compressed; uncompressed by part: ${rows}${stored.length > 0 ? `; stored as it is, in its own segment: ${stored.join(', ')}` : ''}`);
}

