// Everything install checks before it changes anything, as pure functions of
// HostFacts: each returns the problems, each a whole message.

import { configFromJson, type ConfigProblem, normalizeConfigText } from '../../src/config';
import { whyNotCarried } from '../../src/union/carried';
import { globMatch } from '../../src/kmod/alias';
import { bootLoaderOf, type HostFacts, type RootFacts, type SystemdBootFacts } from './facts';
import { entryId } from './systemd-boot';
import { MODULES_DEP, modulesDir } from '../../src/layout/image-paths';
import { BOOT_DIR, manualEntries } from './layout';
import { describeStack, unassembled } from '../../builder/volume-stack';

export interface InstallOptions {
  readonly overlay: string;
  readonly cowsize: string | undefined;
  readonly mounts: string | undefined;
  readonly makeDefault: boolean;
  readonly dryRun: boolean;
  readonly noBootloader: boolean;
}

/** The image defaults the options choose, as the config file's JSON object. */
export function chosenConfig(options: InstallOptions): Record<string, string> {
  const config: Record<string, string> = { overlay: options.overlay };
  if (options.cowsize !== undefined) config.cowsize = options.cowsize;
  if (options.mounts !== undefined) config.mounts = options.mounts;
  return config;
}

const asOption = (p: ConfigProblem) => `--${p.param} ${p.value} is not valid: expected ${p.expected}`;

/** The options as the config file takes them, and --overlay among the kinds the images built here would carry. */
export function optionProblems(options: InstallOptions, unions: HostFacts['unions']): string[] {
  const { values, problems } = configFromJson(chosenConfig(options), 'options');
  const why = values.overlay === undefined ? null : whyNotCarried(values.overlay, unions, 'build machine');
  return [...problems.map(asOption), ...(why === null ? [] : [`--overlay ${options.overlay} cannot be: ${why}`])];
}

/** The config file install writes: normalized as the builder packs it. */
export function configText(options: InstallOptions): string {
  return normalizeConfigText(JSON.stringify(chosenConfig(options)), 'options').json;
}

/** A root install can freeze: its UUID, and what else the boot must be told to find it. */
export interface FreezableRoot {
  readonly uuid: string;
  /** rd.luks.uuid= for each container to open, rootflags=subvol= for a btrfs subvolume. */
  readonly params: readonly string[];
}

/** The frozen entry's command line: the root by UUID, what assembles it, and the chosen defaults, shown where users look. */
export function entryCmdline(root: FreezableRoot, options: InstallOptions): string {
  return ['root=UUID=' + root.uuid, ...root.params, ...Object.entries(chosenConfig(options)).map(([k, v]) => `${k}=${v}`)].join(' ');
}

const FREEZABLE_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs'];

/**
 * The root where it can be frozen, or why it cannot. `luks`: the LUKS
 * containers open on this system, each named by rd.luks.uuid= so that the
 * frozen boot opens what this one did (the fstab's volumes too), and asks
 * for no other.
 */
export function freezableRoot(root: RootFacts, luks: readonly string[] = []): FreezableRoot | { problem: string } {
  switch (root.kind) {
    case 'frozen':
      return { problem: `this system is frozen now (/ is cowboot's ${root.union} union, its changes in RAM): run this from a normal boot, or it is undone at power-off` };
    case 'other':
      return { problem: `/ is ${root.fsType} from ${root.source}, not a filesystem on a disk: cowboot freezes a root it finds by UUID at boot` };
    case 'block': {
      const why = unassembled(root.stack);
      if (why) return { problem: `/ is on ${describeStack(root.stack)}: ${why}, so it could not find the root at boot` };
      if (!FREEZABLE_TYPES.includes(root.fsType)) return { problem: `/ is ${root.fsType} on ${root.device}: cowboot freezes roots on ${FREEZABLE_TYPES.join(', ')}` };
      if (!root.uuid) return { problem: `${root.device} has no filesystem UUID: the frozen entry finds the root by root=UUID=` };
      const containers = [...new Set([...root.stack.flatMap((l) => (l.kind === 'luks' ? [l.uuid] : [])), ...luks])];
      return { uuid: root.uuid, params: [...containers.map((uuid) => `rd.luks.uuid=${uuid}`), ...(root.subvolume ? [`rootflags=subvol=${root.subvolume}`] : [])] };
    }
  }
}

export function installProblems(facts: HostFacts, options: InstallOptions): string[] {
  const problems = optionProblems(options, facts.unions);
  if (facts.uid !== 0 && !options.dryRun) problems.push('cowboot install must run as root: it writes /boot, /etc and /usr/local (try sudo, or --dry-run to see what it would do)');
  if (!facts.hasBoot) problems.push('/boot does not exist: cowboot keeps its images beside the kernels there');
  else if (facts.kernels.length === 0) problems.push('no kernel to build for: no /boot/vmlinuz-VER with its /lib/modules/VER/modules.dep');
  const root = freezableRoot(facts.root, facts.luks);
  if ('problem' in root) problems.push(root.problem);
  if (facts.missingPackages.length > 0) {
    problems.push(`cowboot needs ${facts.missingPackages.join(', ')} to build its images; install with: apt-get install ${facts.missingPackages.join(' ')}`);
  }
  if (options.noBootloader) {
    if (options.makeDefault) problems.push('--default makes the frozen entry the default; with --no-bootloader there is none');
    return problems;
  }
  const loader = bootLoaderOf(facts);
  switch (loader) {
    case null: {
      const hand = 'uuid' in root && facts.kernels[0] ? `, and add an entry by hand.\n\n${manualEntries(facts.kernels.at(-1)!, root.uuid, entryCmdline(root, options))}` : '';
      problems.push(`no boot loader cowboot can add entries to (no GRUB: no /etc/grub.d with update-grub or grub-mkconfig; no systemd-boot that bootctl finds): give --no-bootloader to install the images and the kernel hooks only${hand}`);
      break;
    }
    case 'grub':
      if (options.makeDefault && facts.grub!.defaultEntry !== '0') {
        problems.push(`--default: GRUB_DEFAULT=${facts.grub!.defaultEntry} in /etc/default/grub, so GRUB's default is not its first entry; set GRUB_DEFAULT=0, or choose the entry with grub-set-default`);
      }
      break;
    case 'systemd-boot':
      problems.push(...systemdBootProblems(facts.systemdBoot!, facts.kernels, options.makeDefault));
      break;
  }
  return problems;
}

/** systemd-boot: type 1 entries need kernel-install's bls layout, and --default a loader.conf default that takes ours. */
function systemdBootProblems(boot: SystemdBootFacts, kernels: readonly string[], makeDefault: boolean): string[] {
  const problems: string[] = [];
  if (boot.layout !== 'bls') {
    problems.push(`kernel-install's layout is ${boot.layout}, not bls: cowboot writes Boot Loader Specification type 1 entries beside the kernels kernel-install copies to ${boot.bootRoot}`);
  }
  for (const kernel of kernels.filter((k) => !boot.kernelsThere.includes(k))) {
    problems.push(`Linux ${kernel} is not on the ESP (no ${boot.bootRoot}/${boot.token}/${kernel}/linux), so no entry could boot it frozen: run kernel-install add ${kernel} /boot/vmlinuz-${kernel} first`);
  }
  const id = entryId(boot, kernels.at(-1) ?? 'VER');
  if (makeDefault && boot.loaderDefault !== null && !globMatch(boot.loaderDefault, id)) {
    problems.push(`--default: loader.conf says "default ${boot.loaderDefault}", which the frozen entries (${id}) do not match; remove that line, or make it match them`);
  }
  const variable = boot.loaderVariables.default;
  if (makeDefault && variable !== null && !globMatch(variable, id)) {
    problems.push(`--default: the EFI variable LoaderEntryDefault (bootctl set-default) names ${variable}, which wins over loader.conf and is not the frozen entries (${id}); run: bootctl set-default ''`);
  }
  return problems;
}

/** Kernels named on the command line (or by a hook) that are not installed. */
export function unknownKernels(named: readonly string[], installed: readonly string[]): string[] {
  return named
    .filter((kernel) => !installed.includes(kernel))
    .map((kernel) => `kernel ${kernel} is not installed: no ${BOOT_DIR}/vmlinuz-${kernel} with ${modulesDir(kernel)}/${MODULES_DEP}; installed: ${installed.join(', ') || 'none'}`);
}
