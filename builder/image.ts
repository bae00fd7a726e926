// Gathers everything that goes into the initramfs, as cpio entries grouped by
// part so the summary can say where the bytes go.

import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { type Runtime, runtimePath } from './bundle';
import { type CpioEntry, normalizePath } from './cpio';
import { BuildError, findTool, requireStaticBusybox, sharedLibraries, TOOLS } from './host';
import { configFromText, mergeConfig } from '../src/config';
import { DHCP_SCRIPT_TEXT } from '../src/net/dhcp';
import { API_MOUNTS, CA_BUNDLE, DHCP_SCRIPT, IMAGE_CONFIG, KEYS_DIR, IMAGE_UNIONS, INIT, INIT_BUNDLE, KERNEL_STAMP, MODULES_ALIAS, MODULES_BUILTIN, MODULES_DEP, MODULES_SYMBOLS, modulesDir, NEW_ROOT, RUN_BY_PATH, HOT_MODULE, HOT_PAGES_PACKED, RUNTIME_DIR, RUNTIME_IMAGE, RUNTIME_RECORD, SHUTDOWN_TOOLS, type ShutdownTools, TOOL_DIRS, VOLUME_TOOLS } from '../src/layout/image-paths';
import { LUKS_MODULES } from '../src/storage/luks';
import { MD_MODULES } from '../src/storage/md';
import { openVolumes, type VolumeKind, type VolumesOption } from './volume-tools';
import { matchModaliases, parseAliasRules } from '../src/kmod/alias';
import { type ModuleDb, moduleName, parseModuleDb } from '../src/kmod/loader';
import { readModaliases, type SysfsReader } from '../src/kmod/modaliases';
import type { UnionName } from '../src/config/union-names';
import { UNION_KINDS, UNION_MODULES } from '../src/union';
import { carriedText } from '../src/union/carried';
import { aliasModule, filterMetadata, plainModule, plainModuleDep, plainModulePath, selectModules } from './kmod';
import type { IcuTrim } from './icu';
import { type PreInitFacts, preInitScript } from './pre-init';
import { SQUASHFS_COMPRESSIONS, type SquashfsCompression } from './runtime-image';
import { hostCarriedKinds, imageUnions, programOnHost } from './unions';
import type { PackedKey } from '../src/net/image-signature';

export type Part = 'init' | 'runtime' | 'tools' | 'modules' | 'base' | 'added';

/**
 * How the runtime goes into the image: `squashfs`, an image read on demand
 * through a loop device (only the pages that run are decompressed, the rest
 * takes no RAM), in zstd or, larger and faster to start, lz4; `cpio`, the
 * binary among the other files, all unpacked into RAM before /init starts.
 */
export type RuntimePacking = { readonly kind: 'cpio' } | { readonly kind: 'squashfs'; readonly compression: SquashfsCompression };
export const RUNTIME_PACKS = {
  squashfs: { kind: 'squashfs', compression: SQUASHFS_COMPRESSIONS.zstd },
  'squashfs-lz4': { kind: 'squashfs', compression: SQUASHFS_COMPRESSIONS.lz4 },
  cpio: { kind: 'cpio' },
} as const satisfies Record<string, RuntimePacking>;
export type RuntimePack = keyof typeof RUNTIME_PACKS;
export const RUNTIME_PACK_NAMES = Object.keys(RUNTIME_PACKS) as RuntimePack[];

export interface PartEntry {
  readonly part: Part;
  readonly entry: CpioEntry;
  /** In the image's first segment, uncompressed: an image that is compressed already and read in place. */
  readonly stored?: true;
}

interface ImageInputs {
  /** Static files of the image (initramfs-skel/). */
  readonly skelDir: string;
  readonly bundlePath: string;
  /** The runtime's binary on this machine, as it goes into the image. */
  readonly runtimeBinary: string;
  /** What --icu trimmed of it; null: none of it (recorded in RUNTIME_RECORD). */
  readonly runtimeIcu: IcuTrim | null;
  /** --hot-pages, for Node's squashfs packs: the module that maps them, and the pages lz4-packed; null: none. */
  readonly runtimeHot: { readonly module: string; readonly packed: string } | null;
  readonly kernelVersion: string;
  readonly kmoddir: string;
  readonly configJson: string;
  readonly runtime: Runtime;
  readonly pack: RuntimePack;
  /** The runtime as a squashfs image in this compression, for the squashfs packs. */
  readonly runtimeImage: (compression: SquashfsCompression) => string;
  /** Only the modules this machine's devices use (and those every boot needs), like booster's default. */
  readonly hostOnly: boolean;
  /** --add-module: more modules, with what they need. */
  readonly extraModules: readonly string[];
  /** --add-file: files from the build machine, by their path in the image. */
  readonly extraFiles: readonly { readonly source: string; readonly dest: string }[];
  /** --volumes: the volume tools to carry (lvm, cryptsetup); auto: those of the volumes open on this machine. */
  readonly volumes: VolumesOption;
  /** --ca: the CA bundle packed for https:// fetches; null: none. */
  readonly ca: string | null;
  /** --add-key: packed as KEYS_DIR/NAME.pem. */
  readonly keys: readonly PackedKey[];
  readonly progress: (line: string) => void;
}

// What a generic machine needs to find its root: storage controllers, disks
// and CD-ROMs, USB storage, and USB keyboards for the rescue shell.
const STORAGE_MODULES = [
  'virtio_pci', 'virtio_blk', 'virtio_scsi', 'ahci', 'ata_piix', 'nvme', 'sd_mod', 'sr_mod',
  'xhci_pci', 'ehci_pci', 'ohci_pci', 'uhci_hcd', 'usb_storage', 'uas', 'usbhid', 'hid_generic',
  // The wired NICs of VMs, PCs and servers, for a root fetched over the network.
  'virtio_net', 'e1000', 'e1000e', 'igb', 'igc', 'r8169', 'tg3', 'bnx2', 'ixgbe',
] as const;

// What every boot may need whatever the machine: filesystems; a journal
// replay (dm_snapshot, loop) and the fstab's RAM overlays (overlay) under any
// union kind; roothash= (dm_verity); root=nbd: (nbd); root=nfs: (nfsv4, which brings
// sunrpc and the NFS client); LUKS (dm_crypt and its ciphers); md RAID; and
// what each union kind loads. vfat
// asks for its code page and character set (Debian's defaults: cp437 and
// ascii) when it mounts; exfat is for sticks that hold an ISO file.
const BOOT_MODULES: readonly string[] = [
  ...new Set(['ext4', 'xfs', 'btrfs', 'squashfs', 'isofs', 'erofs', 'vfat', 'nls_cp437', 'nls_ascii', 'nls_utf8', 'nls_iso8859_1', 'exfat', 'crc32c', 'dm_snapshot', 'dm_verity', 'nbd', 'nfsv4', ...LUKS_MODULES, ...MD_MODULES, 'loop', 'overlay', ...UNION_MODULES]),
];

// modules.symbols (symbol_request()'s aliases) is cut down as modules.alias
// is: the whole kernel's is 0.6 MiB, and it can only name modules in the image.
const MODULE_METADATA = [MODULES_BUILTIN, 'modules.softdep'];

// This machine's /sys, read as /init reads it at boot.
const hostSysfs: SysfsReader = {
  readdir(path) {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  },
  readText: (path) => readFileSync(path, 'utf8'),
};

const BASE_DIRS = [...TOOL_DIRS, '/etc', ...API_MOUNTS, '/tmp', NEW_ROOT, '/root'];

function file(path: string, source: string, mode?: number): CpioEntry {
  const stat = lstatSync(source);
  return { kind: 'file', path, mode: mode ?? stat.mode & 0o7777, data: readFileSync(source) };
}

function base(): PartEntry[] {
  const entries: CpioEntry[] = BASE_DIRS.map((path) => ({ kind: 'dir', path, mode: path === '/tmp' ? 0o1777 : 0o755 }));
  // Needed before devtmpfs is mounted: the kernel opens /dev/console for
  // /init's stdio, and Node's spawn opens /dev/null for an ignored stdin.
  entries.push({ kind: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 });
  entries.push({ kind: 'chardev', path: 'dev/null', mode: 0o666, major: 1, minor: 3 });
  return entries.map((entry) => ({ part: 'base', entry }));
}

function skel(dir: string): PartEntry[] {
  const entries: PartEntry[] = [];
  const walk = (abs: string) => {
    for (const name of readdirSync(abs).sort()) {
      const path = join(abs, name);
      const rel = relative(dir, path);
      const stat = lstatSync(path);
      if (stat.isSymbolicLink()) entries.push({ part: 'base', entry: { kind: 'symlink', path: rel, target: readlinkSync(path) } });
      else if (stat.isDirectory()) {
        entries.push({ part: 'base', entry: { kind: 'dir', path: rel, mode: 0o755 } });
        walk(path);
      } else entries.push({ part: 'base', entry: file(rel, path, stat.mode & 0o111 ? 0o755 : 0o644) });
    }
  };
  walk(dir);
  return entries;
}

function libraries(part: Part, binary: string, seen: Set<string>): PartEntry[] {
  const entries: PartEntry[] = [];
  for (const lib of sharedLibraries(findTool(TOOLS.ldd), binary)) {
    if (seen.has(lib)) continue;
    seen.add(lib);
    // The real file under the name the loader looks for: no symlink chains to carry.
    entries.push({ part, entry: file(lib, realpathSync(lib), 0o755) });
  }
  return entries;
}

function withLibraries(part: Part, binaries: readonly { path: string; source: string }[], seen: Set<string>): PartEntry[] {
  return binaries.flatMap(({ path, source }) => [{ part, entry: file(path, source, 0o755) }, ...libraries(part, source, seen)]);
}

function busybox(): PartEntry[] {
  const path = findTool(TOOLS.busybox);
  requireStaticBusybox(path);
  const entries: PartEntry[] = [{ part: 'tools', entry: file('bin/busybox', path, 0o755) }];
  const applets = execFileSync(path, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const applet of applets) {
    // Debian's list is for a merged /usr; the image keeps /bin and /usr/bin apart, both on PATH.
    if (applet === 'bin/busybox') continue;
    entries.push({ part: 'tools', entry: { kind: 'symlink', path: applet, target: '/bin/busybox' } });
  }
  return entries;
}

function readModuleFile(kmoddir: string, name: string): string {
  return existsSync(join(kmoddir, name)) ? readFileSync(join(kmoddir, name), 'utf8') : '';
}

/** The kernel's modules.dep, as text (the image carries it cut down) and parsed. */
function moduleDb(kmoddir: string): { readonly depText: string; readonly db: ModuleDb } {
  const depText = readModuleFile(kmoddir, MODULES_DEP);
  if (!depText) throw new BuildError(`no ${MODULES_DEP} in ${kmoddir}; run depmod for that kernel or give --kmoddir (see docs/building.md)`);
  return { depText, db: parseModuleDb(depText, readModuleFile(kmoddir, MODULES_BUILTIN)) };
}

function modules(inputs: ImageInputs, { depText, db }: ReturnType<typeof moduleDb>): PartEntry[] {
  const { kmoddir, kernelVersion } = inputs;
  const read = (name: string) => readModuleFile(kmoddir, name);
  const aliasText = read(MODULES_ALIAS);
  const aliases = parseAliasRules(aliasText);
  const storage = inputs.hostOnly ? matchModaliases(aliases, readModaliases(hostSysfs)) : [...STORAGE_MODULES];
  if (inputs.hostOnly) inputs.progress(`host-only: this machine's devices use ${storage.join(' ') || 'no modules'}`);
  const wanted = [...storage, ...BOOT_MODULES, ...inputs.extraModules];
  const selection = selectModules(wanted, db, aliases);
  const missingExtra = selection.missing.filter((m) => inputs.extraModules.includes(m));
  if (missingExtra.length > 0) throw new BuildError(`--add-module ${missingExtra.join(', ')}: no such module in ${kmoddir}`);
  if (selection.missing.length > 0) inputs.progress(`not in this kernel, left out: ${selection.missing.join(' ')}`);
  if (selection.builtin.length > 0) inputs.progress(`built into this kernel: ${selection.builtin.join(' ')}`);
  const dest = modulesDir(kernelVersion);
  const keep = new Set(selection.modules);
  const entries = selection.modules.map((name): PartEntry => {
    const rel = db.paths.get(name)!;
    return { part: 'modules', entry: { kind: 'file', path: `${dest}/${plainModulePath(rel)}`, mode: 0o644, data: plainModule(join(kmoddir, rel)) } };
  });
  const metadata = (name: string, text: string): PartEntry => ({ part: 'modules', entry: { kind: 'file', path: `${dest}/${name}`, mode: 0o644, data: Buffer.from(text) } });
  entries.push(metadata(MODULES_DEP, plainModuleDep(filterMetadata(depText, keep, (line) => (line.includes(':') ? moduleName(line.slice(0, line.indexOf(':'))) : null)))));
  entries.push(metadata(MODULES_ALIAS, filterMetadata(aliasText, keep, aliasModule)));
  entries.push(metadata(MODULES_SYMBOLS, filterMetadata(read(MODULES_SYMBOLS), keep, aliasModule)));
  for (const name of MODULE_METADATA) {
    if (existsSync(join(kmoddir, name))) entries.push({ part: 'modules', entry: file(`${dest}/${name}`, join(kmoddir, name), 0o644) });
  }
  // The running kernel must be the one these modules are for; /init checks.
  entries.push({ part: 'modules', entry: { kind: 'file', path: KERNEL_STAMP, mode: 0o644, data: Buffer.from(`${kernelVersion}\n`) } });
  inputs.progress(`${selection.modules.length} kernel modules for ${kernelVersion}`);
  return entries;
}

/** The modules `names` need loaded, dependencies first, as insmod takes them; built-in ones left out. */
function loadOrder(names: readonly string[], db: ModuleDb, kernelVersion: string): { name: string; path: string }[] {
  const order: { name: string; path: string }[] = [];
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name) || db.builtin.has(name)) return;
    seen.add(name);
    const path = db.paths.get(name);
    if (path === undefined) throw new BuildError(`the runtime's image needs the ${name} module, which this kernel has neither as a module nor built in`);
    for (const dep of [...(db.deps.get(name) ?? [])].reverse()) visit(dep);
    order.push({ name, path: `${modulesDir(kernelVersion)}/${plainModulePath(path)}` });
  };
  for (const name of names) visit(name);
  return order;
}

// A kernel that cannot read the runtime's image would stop every boot at the
// first step, so its config is read where one is found: /boot beside the
// modules (a kernel package unpacked elsewhere, as the tests have it), or
// this machine's /boot.
function requireSquashfsReader(inputs: ImageInputs, compression: SquashfsCompression): void {
  const candidates = [join(inputs.kmoddir, '..', '..', '..', 'boot', `config-${inputs.kernelVersion}`), `/boot/config-${inputs.kernelVersion}`];
  const config = candidates.find((path) => existsSync(path));
  if (config === undefined) return;
  if (!new RegExp(`^${compression.kernelConfig}=y$`, 'm').test(readFileSync(config, 'utf8'))) {
    throw new BuildError(`${config}: this kernel reads no ${compression.name} squashfs (${compression.kernelConfig}), so it could not read the runtime's image; build with --pack-runtime cpio`);
  }
}

// Under Node packed in the cpio, /init is the bundle and the kernel runs Node
// through its shebang. Otherwise /init is a script that readies what the
// runtime needs (pre-init.ts): the squashfs image's mount, or for Bun, which
// aborts without it, /proc.
function dhcpScript(): PartEntry {
  return { part: 'init', entry: { kind: 'file', path: DHCP_SCRIPT, mode: 0o755, data: Buffer.from(DHCP_SCRIPT_TEXT) } };
}

/** RUNTIME_RECORD: for a person reading the image (cowboot cat IMAGE /etc/cowboot-runtime.json). */
interface RuntimeRecord {
  readonly runtime: Runtime;
  readonly icu: IcuTrim | null;
}

/** What the image's runtime is, and what was changed in the official binary. */
function runtimeRecord(inputs: ImageInputs): PartEntry {
  const record: RuntimeRecord = { runtime: inputs.runtime, icu: inputs.runtimeIcu };
  return { part: 'runtime', entry: { kind: 'file', path: RUNTIME_RECORD, mode: 0o644, data: Buffer.from(`${JSON.stringify(record)}\n`) } };
}

function runtimeEntries(inputs: ImageInputs, db: ModuleDb, seen: Set<string>): PartEntry[] {
  const runtime = runtimePath(inputs.runtime);
  const bundle = (path: string, mode: number): PartEntry => ({ part: 'init', entry: file(path, inputs.bundlePath, mode) });
  const packing: RuntimePacking = RUNTIME_PACKS[inputs.pack];
  if (packing.kind === 'cpio') {
    const binary = withLibraries('runtime', [{ path: runtime, source: inputs.runtimeBinary }], seen);
    if (inputs.runtime === 'node') return [bundle(INIT, 0o755), dhcpScript(), runtimeRecord(inputs), ...binary];
    return [bundle(INIT_BUNDLE, 0o644), dhcpScript(), runtimeRecord(inputs), ...binary, preInit(inputs, runtime, null)];
  }
  requireSquashfsReader(inputs, packing.compression);
  const inImage = `${RUNTIME_DIR}/${inputs.runtime}`;
  const modules = loadOrder(['loop', 'squashfs'], db, inputs.kernelVersion);
  const hot = inputs.runtimeHot;
  return [
    bundle(INIT_BUNDLE, 0o644),
    dhcpScript(),
    preInit(inputs, runtime, { modules, hotPages: hot !== null }),
    runtimeRecord(inputs),
    // Packed already, so stored as it is; unpacked by the first step with Debian's lz4, which the kernel's own cannot replace (it unpacks archives, not files).
    ...(hot === null ? [] : [{ part: 'runtime', entry: file(HOT_MODULE, hot.module, 0o644) } satisfies PartEntry, { part: 'runtime', entry: file(HOT_PAGES_PACKED, hot.packed, 0o644), stored: true } satisfies PartEntry, ...withLibraries('tools', [{ path: 'usr/bin/lz4', source: findTool(TOOLS.lz4) }], seen)]),
    { part: 'runtime', entry: file(RUNTIME_IMAGE, inputs.runtimeImage(packing.compression), 0o644), stored: true },
    { part: 'runtime', entry: { kind: 'dir', path: RUNTIME_DIR, mode: 0o755 } },
    { part: 'runtime', entry: { kind: 'symlink', path: runtime, target: inImage } },
    ...libraries('runtime', inputs.runtimeBinary, seen),
  ];
}

function preInit(inputs: ImageInputs, runtime: string, runtimeImage: PreInitFacts['runtimeImage']): PartEntry {
  const config = mergeConfig(configFromText(inputs.configJson, IMAGE_CONFIG).values);
  return { part: 'init', entry: { kind: 'file', path: INIT, mode: 0o755, data: Buffer.from(preInitScript({ runtime, runtimeImage, config })) } };
}

// Checked here because a missing one (a busybox built without switch_root)
// would show only at boot.
function requireRunByPath(parts: readonly PartEntry[]): void {
  const paths = new Set(parts.map(({ entry }) => `/${normalizePath(entry.path)}`));
  const missing = RUN_BY_PATH.filter((path) => !paths.has(path));
  if (missing.length > 0) throw new BuildError(`the image lacks ${missing.join(', ')}, which /init runs by path`);
}

/** The files the shutdown return copies into /run/initramfs: busybox, and dmsetup with its libraries. */
function shutdownTools(dmsetup: string): PartEntry {
  const tools: ShutdownTools = { busybox: '/bin/busybox', dmsetup: ['/usr/sbin/dmsetup', ...sharedLibraries(findTool(TOOLS.ldd), dmsetup)] };
  return { part: 'base', entry: { kind: 'file', path: SHUTDOWN_TOOLS, mode: 0o644, data: Buffer.from(`${JSON.stringify(tools)}\n`) } };
}

const VOLUME_TOOL: Record<VolumeKind, keyof typeof VOLUME_TOOLS> = { lvm: 'lvm', luks: 'cryptsetup', md: 'mdadm', nbd: 'nbd-client' };

/** lvm and cryptsetup, as --volumes asks; the build says which it carries, and why. */
function volumeTools(option: VolumesOption, progress: (line: string) => void): { path: string; source: string }[] {
  const kinds = option === 'auto' ? openVolumes() : option;
  const why = option === 'auto' ? `the volumes open on this machine; --volumes lvm,luks for others` : '--volumes';
  progress(kinds.length > 0 ? `volume tools in the image: ${kinds.map((k) => VOLUME_TOOL[k]).join(', ')} (${why})` : `no volume tools in the image (${why}): LVM volumes and LUKS containers are left unassembled`);
  return kinds.map((kind) => {
    const tool = VOLUME_TOOLS[VOLUME_TOOL[kind]];
    const source = programOnHost(tool);
    if (!source) throw new BuildError(`${tool.path} not found: ${kind} volumes need it; install it with: apt-get install ${tool.debianPackage}`);
    return { path: tool.path.slice(1), source };
  });
}

/** The programs of the kinds this image carries, where they are on this machine. */
function kindPrograms(kinds: readonly UnionName[]): { path: string; source: string }[] {
  return kinds.flatMap((kind) => {
    const program = UNION_KINDS[kind].program;
    const source = program && programOnHost(program);
    return program && source ? [{ path: program.path, source }] : [];
  });
}

export function collectImage(request: ImageInputs): PartEntry[] {
  const libs = new Set<string>();
  const dmsetup = findTool(TOOLS.dmsetup);
  const unions = imageUnions(request.configJson, hostCarriedKinds());
  const inputs: ImageInputs = { ...request, configJson: unions.configJson };
  const kernelModules = moduleDb(inputs.kmoddir);
  inputs.progress(unions.summary);
  inputs.progress('collecting files');
  const parts: PartEntry[] = [
    ...base(),
    ...skel(inputs.skelDir),
    { part: 'base', entry: { kind: 'file', path: IMAGE_CONFIG, mode: 0o644, data: Buffer.from(inputs.configJson) } },
    { part: 'base', entry: { kind: 'file', path: IMAGE_UNIONS, mode: 0o644, data: Buffer.from(carriedText(unions.kinds)) } },
    ...runtimeEntries(inputs, kernelModules.db, libs),
    ...busybox(),
    ...withLibraries('tools', [...kindPrograms(unions.kinds), { path: 'usr/sbin/dmsetup', source: dmsetup }, ...volumeTools(inputs.volumes, inputs.progress)], libs),
    shutdownTools(dmsetup),
    ...modules(inputs, kernelModules),
    ...(inputs.ca === null ? [] : [{ part: 'base', entry: file(CA_BUNDLE, inputs.ca, 0o644) } satisfies PartEntry]),
    ...inputs.keys.map((key): PartEntry => ({ part: 'base', entry: { kind: 'file', path: `${KEYS_DIR}/${key.name}.pem`, mode: 0o644, data: Buffer.from(key.pem) } })),
    ...inputs.extraFiles.map(({ source, dest }): PartEntry => {
      if (!existsSync(source)) throw new BuildError(`--add-file ${source}:${dest}: ${source} does not exist`);
      return { part: 'added', entry: file(dest, source) };
    }),
  ];
  requireRunByPath(parts);
  return parts;
}

export function defaultKernelVersion(kmoddir: string | undefined, running: string): string {
  return kmoddir === undefined ? running : basename(kmoddir.replace(/\/+$/, ''));
}
