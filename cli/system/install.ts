// cowboot install, uninstall, update and forget: the images, the kernel
// hooks and the GRUB entries, applied as changes that undo themselves on
// failure (changes.ts).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { COMPRESSIONS } from '../../builder/formats';
import { DEFAULT_ICU } from '../../builder/icu';
import { modulesDir } from '../../src/layout/image-paths';
import { type Assets, INSTALLED_MARKER, installedAssets } from '../assets';
import { buildImage, progress } from '../build';
import { MAN_PAGE_FILES, type ManPages } from '../docs/pages';
import { CommandError } from '../errors';
import { type Change, applyChanges, describeChange } from './changes';
import { configText, entryCmdline, freezableRoot, type InstallOptions, installProblems, unknownKernels } from './checks';
import { type BootLoader, bootLoaderOf, type HostFacts, type SystemdBootFacts } from './facts';
import { installedKernels } from './host';
import {
  BOOT_DIR, COMMAND, COMMAND_SCRIPT, CONFIG_DIR, CONFIG_FILE, ENTRY_SUFFIX, GRUB_SCRIPTS, grubScript, imagePath, kernelOfImage, LIB_DIR, MAN_DIR, manPagePath,
  KERNEL_INSTALL_PLUGIN, kernelInstallPlugin, POSTINST_HOOK, POSTINST_SCRIPT, POSTRM_HOOK, POSTRM_SCRIPT,
} from './layout';
import { entryChanges, entryId, entryOptions, entryPath, espImagePath, sortKey } from './systemd-boot';

/** What the installed copy records of itself: uninstall removes the folders install had to make. */
interface Manifest {
  readonly version: string;
  readonly madeFolders: readonly string[];
}

export function readManifest(): Manifest | null {
  try {
    return JSON.parse(readFileSync(join(LIB_DIR, INSTALLED_MARKER), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

const MAN_FOLDERS = [...new Set(MAN_PAGE_FILES.map((file) => dirname(manPagePath(file))))].sort();
const SHARED_FOLDERS = ['/usr/local/lib', '/usr/local/sbin', '/usr/local/share', MAN_DIR, ...MAN_FOLDERS, '/etc/kernel', '/etc/kernel/postinst.d', '/etc/kernel/postrm.d'];

function imageChange(kernel: string, configPath: string): Change {
  return {
    kind: 'make',
    path: imagePath(kernel),
    what: `cowboot's image for Linux ${kernel}`,
    make: (output) =>
      buildImage(installedAssets(LIB_DIR), {
        output,
        kernelVersion: kernel,
        kmoddir: modulesDir(kernel),
        compress: COMPRESSIONS[0],
        level: undefined,
        configJson: readFileSync(configPath, 'utf8'),
        runtime: 'node',
        pack: 'squashfs',
        icu: DEFAULT_ICU,
        hotPages: false,
        hostOnly: false,
        extraModules: [],
        extraFiles: [],
        // The tools this machine's root needs: the image boots this machine.
        volumes: 'auto',
        // A frozen machine boots from its own disk and fetches nothing.
        ca: null,
        keys: [],
      }),
  };
}

function requireRoot(facts: HostFacts, command: string): void {
  if (facts.uid !== 0) throw new CommandError(`cowboot ${command} must run as root: it writes /boot (try sudo)`);
}

export async function install(facts: HostFacts, assets: Assets, options: InstallOptions, pages: ManPages): Promise<string> {
  const problems = installProblems(facts, options);
  if (problems.length > 0) throw new CommandError(problems.join('\n'));
  const root = freezableRoot(facts.root, facts.luks);
  if (!('uuid' in root)) throw new CommandError(root.problem);
  const cmdline = entryCmdline(root, options);
  const files = await assets.copyFiles(progress);
  // A second install keeps what the first had to make.
  const earlier = readManifest()?.madeFolders ?? [];
  const manifest: Manifest = { version: assets.version, madeFolders: SHARED_FOLDERS.filter((dir) => earlier.includes(dir) || !existsSync(dir)) };
  const marker = join(LIB_DIR, INSTALLED_MARKER);
  const changes: Change[] = [
    // Whole, so that an image built from it never sees a file half replaced.
    { kind: 'folder', path: LIB_DIR, files, what: 'what the kernel hooks build with' },
    { kind: 'write', path: marker, text: `${JSON.stringify(manifest, null, 2)}\n`, mode: 0o644, what: 'what was installed' },
    { kind: 'write', path: CONFIG_FILE, text: configText(options), mode: 0o644, what: 'the images\' boot defaults' },
    ...facts.kernels.map((kernel) => imageChange(kernel, CONFIG_FILE)),
    { kind: 'write', path: POSTINST_HOOK, text: POSTINST_SCRIPT, mode: 0o755, what: 'builds the image of each new kernel' },
    { kind: 'write', path: POSTRM_HOOK, text: POSTRM_SCRIPT, mode: 0o755, what: 'removes the image of each removed kernel' },
    { kind: 'write', path: COMMAND, text: COMMAND_SCRIPT, mode: 0o755, what: 'the cowboot command' },
    ...MAN_PAGE_FILES.map((file): Change => ({ kind: 'write', path: manPagePath(file), text: pages[file], mode: 0o644, what: `the manual page ${file.replace(/\.(\d)$/, '($1)')}` })),
  ];
  const loader = options.noBootloader ? null : bootLoaderOf(facts);
  const entries = loader === null ? null : loaderEntries(loader, facts, cmdline, options.makeDefault);
  if (entries) changes.push(...entries.changes);
  const said = [...(entries ? [entries.says] : []), `union kinds in the images: ${facts.unions.join(', ')}`];
  if (options.dryRun) return `cowboot install would:\n${changes.map((c) => `  ${describeChange(c)}`).join('\n')}\n${said.join('\n')}\n`;
  await applyChanges(changes, progress);
  const menu = loader === 'systemd-boot' ? "systemd-boot's menu" : 'the GRUB menu';
  const after = loader === null ? '' : options.makeDefault ? 'The frozen entry is the default.\n' : `Choose the frozen entry in ${menu}; the normal entries stay the default.\n`;
  return `installed. ${said.join('\n')}\n${after}`;
}

/** The frozen entries: a GRUB script and update-grub, or systemd-boot's plugin and an entry per kernel. */
function loaderEntries(loader: BootLoader, facts: HostFacts, cmdline: string, makeDefault: boolean): { changes: Change[]; says: string } {
  switch (loader) {
    case 'grub': {
      const path = makeDefault ? GRUB_SCRIPTS.first : GRUB_SCRIPTS.after;
      const other = makeDefault ? GRUB_SCRIPTS.after : GRUB_SCRIPTS.first;
      return {
        changes: [
          { kind: 'write', path, text: grubScript(cmdline), mode: 0o755, what: `a GRUB entry per image, ${makeDefault ? 'first, so the default' : 'after the normal ones'}` },
          ...(existsSync(other) ? [{ kind: 'remove', path: other } as const] : []),
          { kind: 'run', argv: facts.grub!.update },
        ],
        says: `GRUB entries: "…, with Linux VER, ${ENTRY_SUFFIX}" for ${facts.kernels.join(', ')}, booting: ${cmdline}`,
      };
    }
    case 'systemd-boot': {
      const boot = facts.systemdBoot!;
      const options = entryOptions(boot, cmdline);
      const key = sortKey(boot, makeDefault);
      return {
        changes: [
          { kind: 'write', path: KERNEL_INSTALL_PLUGIN, text: kernelInstallPlugin(options, key), mode: 0o755, what: "adds and removes systemd-boot's frozen entry with each kernel" },
          ...facts.kernels.flatMap((kernel) => entryChanges(boot, kernel, options, key)),
        ],
        says: `systemd-boot entries: "${boot.osName}, ${ENTRY_SUFFIX}" (${facts.kernels.map((k) => entryId(boot, k)).join(', ')}), booting: ${options}`,
      };
    }
  }
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [...walk(join(dir, e.name)), `${join(dir, e.name)}/`] : [join(dir, e.name)]));
}

export function cowbootImages(): string[] {
  return (existsSync(BOOT_DIR) ? readdirSync(BOOT_DIR) : []).filter((name) => kernelOfImage(name) !== null).map((name) => join(BOOT_DIR, name));
}

export async function uninstall(facts: HostFacts, dryRun: boolean): Promise<string> {
  if (!dryRun) requireRoot(facts, 'uninstall');
  const onEsp = facts.systemdBoot ? systemdBootFiles(facts.systemdBoot) : [];
  const ours = [...cowbootImages(), ...onEsp, KERNEL_INSTALL_PLUGIN, POSTINST_HOOK, POSTRM_HOOK, GRUB_SCRIPTS.first, GRUB_SCRIPTS.after, COMMAND, ...MAN_PAGE_FILES.map(manPagePath), CONFIG_FILE].filter((p) => existsSync(p));
  const lib = walk(LIB_DIR);
  if (ours.length === 0 && lib.length === 0) return 'cowboot is not installed: nothing to remove\n';
  // Without one (an install that never finished), its own folders go all the same.
  const manifest = readManifest() ?? { version: '?', madeFolders: [] };
  const changes: Change[] = [
    ...ours.map((path): Change => ({ kind: 'remove', path })),
    { kind: 'rmdir', path: CONFIG_DIR },
    ...lib.map((path): Change => (path.endsWith('/') ? { kind: 'rmdir', path: path.slice(0, -1) } : { kind: 'remove', path })),
    { kind: 'rmdir', path: LIB_DIR },
    ...[...manifest.madeFolders].reverse().map((path): Change => ({ kind: 'rmdir', path })),
  ];
  if (facts.grub) changes.push({ kind: 'run', argv: facts.grub.update });
  if (dryRun) return `cowboot uninstall would:\n${changes.map((c) => `  ${describeChange(c)}`).join('\n')}\n`;
  await applyChanges(changes, progress);
  return 'uninstalled: the images, the kernel hooks, the boot entries and the installed copy are gone\n';
}

/** What install and its plugin put on the ESP: the frozen entries, and the images beside the kernels. */
function systemdBootFiles(boot: SystemdBootFacts): string[] {
  const list = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);
  const entries = list(`${boot.bootRoot}/loader/entries`).filter((name) => name.endsWith('-cowboot.conf')).map((name) => `${boot.bootRoot}/loader/entries/${name}`);
  const images = list(`${boot.bootRoot}/${boot.token}`).map((kernel) => espImagePath(boot, kernel));
  return [...entries, ...images];
}

/**
 * What the kernel-install plugin runs: with add, the kernel's frozen entry
 * (its image built first where the postinst hook has not); with remove, the
 * entry and the image go. kernel-install names $BOOT and the token.
 */
export async function kernelInstall(facts: HostFacts, args: { verb: string; kernel: string; options: string; sortKey: string }, env: NodeJS.ProcessEnv): Promise<string> {
  requireRoot(facts, 'kernel-install');
  requireInstalled();
  const bootRoot = env.KERNEL_INSTALL_BOOT_ROOT;
  const token = env.KERNEL_INSTALL_ENTRY_TOKEN;
  if (!bootRoot || !token) throw new CommandError('cowboot kernel-install is run by kernel-install, which sets KERNEL_INSTALL_BOOT_ROOT and KERNEL_INSTALL_ENTRY_TOKEN');
  if (!facts.systemdBoot) throw new CommandError('cowboot kernel-install: bootctl finds no systemd-boot installed');
  const boot: SystemdBootFacts = { ...facts.systemdBoot, bootRoot, token };
  const changes: Change[] =
    args.verb === 'add'
      ? [...(existsSync(imagePath(args.kernel)) ? [] : [imageChange(args.kernel, CONFIG_FILE)]), ...entryChanges(boot, args.kernel, args.options, args.sortKey)]
      : [{ kind: 'remove', path: entryPath(boot, args.kernel) }, { kind: 'remove', path: espImagePath(boot, args.kernel) }];
  await applyChanges(changes, progress);
  return '';
}

function requireInstalled(): void {
  if (!existsSync(join(LIB_DIR, INSTALLED_MARKER))) throw new CommandError(`cowboot is not installed (no ${LIB_DIR}): run cowboot install`);
}

/** Builds the images of the given kernels, or of all and removes those of kernels gone; what the postinst hook runs. */
export async function update(facts: HostFacts, kernels: readonly string[]): Promise<string> {
  requireRoot(facts, 'update');
  requireInstalled();
  const installed = installedKernels();
  const unknown = unknownKernels(kernels, installed);
  if (unknown.length > 0) throw new CommandError(unknown.join('\n'));
  const wanted = kernels.length > 0 ? kernels : installed;
  const gone = kernels.length > 0 ? [] : cowbootImages().filter((path) => !installed.includes(kernelOfImage(path.slice(BOOT_DIR.length + 1))!));
  await applyChanges([...wanted.map((k) => imageChange(k, CONFIG_FILE)), ...gone.map((path): Change => ({ kind: 'remove', path }))], progress);
  return `images built for ${wanted.join(', ')}${gone.length ? `; removed ${gone.join(', ')}` : ''}\n`;
}

/** Removes the image of a kernel being removed; what the postrm hook runs. */
export async function forget(facts: HostFacts, kernel: string): Promise<string> {
  requireRoot(facts, 'forget');
  if (!existsSync(imagePath(kernel))) return `no image for ${kernel}\n`;
  await applyChanges([{ kind: 'remove', path: imagePath(kernel) }], progress);
  return `removed ${imagePath(kernel)}\n`;
}
