// Reads HostFacts off the running system: /proc/self/mountinfo and sysfs for
// the root, /boot and /lib/modules for the kernels, /etc/default/grub.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { findTool, isStaticElf, TOOLS } from '../../builder/host';
import { hostCarriedKinds } from '../../builder/unions';
import { MODULES_DEP, modulesDir } from '../../src/layout/image-paths';
import { DETECT_BYTES, identifyFs } from '../../src/formats/superblocks';
import { DM_NAME, LOG_FILE, RO_DIR } from '../../src/layout/boot-paths';
import { type Layer, stackOf } from '../../builder/volume-stack';
import { HOST_SYSFS } from '../../builder/volume-tools';
import { readHead } from '../../src/sys/read-head';
import type { BootLoader, GrubFacts, HostFacts, RootFacts, SystemdBootFacts } from './facts';
import { BOOT_DIR, vmlinuzPath } from './layout';
import { efiString, LOADER_GUID } from './systemd-boot';

function tryRead(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

export function installedKernels(): string[] {
  return list(modulesDir('').slice(0, -1)).filter((v) => existsSync(`${modulesDir(v)}/${MODULES_DEP}`) && existsSync(vmlinuzPath(v)));
}

interface RootMount {
  readonly devno: string;
  /** The folder of the filesystem mounted there: / or a btrfs subvolume such as /@. */
  readonly root: string;
  readonly fsType: string;
  readonly source: string;
}

/** The last mount on / in mountinfo: "id parent major:minor root mountpoint options [optional…] - fstype source superoptions". */
export function rootMount(mountinfo: string, at = '/'): RootMount | null {
  let found: RootMount | null = null;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    const fields = left?.split(' ') ?? [];
    const [fsType, source] = right?.split(' ') ?? [];
    if (fields[4] === at && fsType && source && fields[2] && fields[3]) found = { devno: fields[2], root: fields[3], fsType, source };
  }
  return found;
}

/** The sysfs name of a device number's block device, or null. */
function blockName(devno: string): string | null {
  try {
    return basename(realpathSync(`/sys/dev/block/${devno}`));
  } catch {
    return null;
  }
}

/** What a frozen root's read-only layer is on: the origin of the dm snapshot, or the device mounted at RO_DIR. */
function frozenMedium(union: 'unionfs' | 'overlayfs' | 'dm' | 'none', mount: RootMount): Layer[] {
  const device = union === 'dm' ? list(`/sys/dev/block/${mount.devno}/slaves`)[0] ?? null : blockName(rootMount(tryRead('/proc/self/mountinfo') ?? '', RO_DIR)?.devno ?? '') ?? (union === 'none' ? blockName(mount.devno) : null);
  return device ? stackOf(device, HOST_SYSFS) : [];
}

/** The UUIDs of the LUKS containers open here. */
function openLuks(): string[] {
  return list('/sys/class/block').flatMap((name) => stackOf(name, HOST_SYSFS).slice(0, 1)).flatMap((layer) => (layer.kind === 'luks' ? [layer.uuid] : []));
}

function frozenUnion(mount: RootMount): 'unionfs' | 'overlayfs' | 'dm' | 'none' {
  if (mount.fsType === 'fuse.unionfs') return 'unionfs';
  if (mount.fsType === 'overlay') return 'overlayfs';
  return tryRead(`/sys/dev/block/${mount.devno}/dm/name`)?.trim() === DM_NAME ? 'dm' : 'none';
}

function readRoot(): RootFacts {
  const mount = rootMount(tryRead('/proc/self/mountinfo') ?? '');
  if (!mount) return { kind: 'other', fsType: 'unknown', source: '(no / in /proc/self/mountinfo)' };
  if (existsSync(LOG_FILE)) {
    const union = frozenUnion(mount);
    return { kind: 'frozen', union, medium: frozenMedium(union, mount) };
  }
  // btrfs mounts show an anonymous device number: its device is the source.
  const name = blockName(mount.devno) ?? (mount.source.startsWith('/dev/') && existsSync(mount.source) ? basename(realpathSync(mount.source)) : null);
  if (name === null) return { kind: 'other', fsType: mount.fsType, source: mount.source };
  const device = `/dev/${name}`;
  let identity = null;
  try {
    identity = identifyFs(readHead(existsSync(device) ? device : mount.source, DETECT_BYTES));
  } catch {
    // Unreadable: reported as a root without a UUID.
  }
  const fsType = identity?.type ?? mount.fsType;
  return { kind: 'block', device, fsType, uuid: identity?.uuid ?? null, stack: stackOf(name, HOST_SYSFS), subvolume: fsType === 'btrfs' && mount.root !== '/' ? mount.root.replace(/^\//, '') : null };
}

function grubDefault(): string {
  const files = ['/etc/default/grub', ...list('/etc/default/grub.d').filter((n) => n.endsWith('.cfg')).map((n) => `/etc/default/grub.d/${n}`)];
  let value = '0';
  for (const file of files) {
    for (const match of (tryRead(file) ?? '').matchAll(/^\s*GRUB_DEFAULT=(.*)$/gm)) value = match[1]!.trim().replace(/^(["'])(.*)\1$/, '$2');
  }
  return value;
}

function readGrub(): GrubFacts | null {
  if (!existsSync('/etc/grub.d')) return null;
  const update = ['/usr/sbin/update-grub', '/sbin/update-grub'].find(existsSync);
  if (update) return { update: [update], defaultEntry: grubDefault() };
  const mkconfig = ['/usr/sbin/grub-mkconfig', '/sbin/grub-mkconfig'].find(existsSync);
  if (mkconfig) return { update: [mkconfig, '-o', `${BOOT_DIR}/grub/grub.cfg`], defaultEntry: grubDefault() };
  return null;
}

function osRelease(): { id: string; name: string } {
  const text = tryRead('/etc/os-release') ?? tryRead('/usr/lib/os-release') ?? '';
  const field = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1]?.replace(/^(["'])(.*)\1$/, '$2') ?? null;
  return { id: field('ID') ?? 'linux', name: field('PRETTY_NAME') ?? 'Linux' };
}

/** A boot loader interface variable (LOADER_GUID) as efivarfs holds it; null where unset or not UEFI. */
function loaderVariable(name: string): string | null {
  try {
    return efiString(readFileSync(`/sys/firmware/efi/efivars/${name}-${LOADER_GUID}`));
  } catch {
    return null;
  }
}

/** The boot loader the firmware was told booted this system. */
function bootedBy(): BootLoader | null {
  const info = loaderVariable('LoaderInfo') ?? '';
  return info.startsWith('systemd-boot') ? 'systemd-boot' : info.startsWith('GRUB') ? 'grub' : null;
}

/**
 * systemd-boot where bootctl finds it installed, and kernel-install's layout
 * for the newest kernel. In a frozen system the ESP is cowboot's snapshot of
 * its partition, which bootctl would not take for an ESP: it is told to relax.
 */
function readSystemdBoot(kernels: readonly string[], root: RootFacts): SystemdBootFacts | null {
  const newest = kernels.at(-1);
  const env = root.kind === 'frozen' ? { ...process.env, SYSTEMD_RELAX_ESP_CHECKS: '1' } : process.env;
  if (newest === undefined || spawnSync('bootctl', ['--quiet', 'is-installed'], { env }).status !== 0) return null;
  const inspect = spawnSync('kernel-install', ['inspect', '--json=short', newest, vmlinuzPath(newest)], { encoding: 'utf8', env });
  if (inspect.status !== 0) return null;
  const found = JSON.parse(inspect.stdout) as { BootRoot: string; EntryToken: string; Layout: string };
  const loaderConf = tryRead(`${found.BootRoot}/loader/loader.conf`) ?? '';
  const { id, name } = osRelease();
  return {
    bootRoot: found.BootRoot,
    token: found.EntryToken,
    layout: found.Layout,
    kernelCmdline: tryRead('/etc/kernel/cmdline')?.trim() ?? null,
    loaderDefault: /^\s*default\s+(\S+)/m.exec(loaderConf)?.[1] ?? null,
    loaderVariables: { oneShot: loaderVariable('LoaderEntryOneShot'), default: loaderVariable('LoaderEntryDefault') },
    osId: id,
    osName: name,
    kernelsThere: kernels.filter((k) => existsSync(`${found.BootRoot}/${found.EntryToken}/${k}/linux`)),
  };
}

function missingPackages(): string[] {
  const missing: string[] = [];
  // xz: Debian 13's kernels ship their modules as .ko.xz, which the builder unpacks.
  for (const tool of [TOOLS.busybox, TOOLS.dmsetup, TOOLS.zstd, TOOLS.xz, TOOLS.ldd, TOOLS.libatomic]) {
    try {
      const path = findTool(tool);
      if (tool === TOOLS.busybox && !isStaticElf(readFileSync(path))) missing.push(tool.debianPackage);
    } catch {
      missing.push(tool.debianPackage);
    }
  }
  return missing;
}

export function readHost(): HostFacts {
  const kernels = installedKernels();
  const root = readRoot();
  return {
    uid: process.getuid?.() ?? 0,
    hasBoot: existsSync(BOOT_DIR),
    kernels,
    root,
    grub: readGrub(),
    systemdBoot: readSystemdBoot(kernels, root),
    bootedBy: bootedBy(),
    missingPackages: missingPackages(),
    luks: openLuks(),
    unions: hostCarriedKinds(),
  };
}
