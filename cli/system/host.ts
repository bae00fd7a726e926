// Reads HostFacts off the running system: /proc/self/mountinfo and sysfs for
// the root, /boot and /lib/modules for the kernels, /etc/default/grub.

import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { findTool, isStaticElf, TOOLS } from '../../builder/host';
import { hostCarriedKinds } from '../../builder/unions';
import { MODULES_DEP, modulesDir } from '../../src/image-layout';
import { DETECT_BYTES, identifyFs } from '../../src/fs-detect';
import { DM_NAME, LOG_FILE } from '../../src/paths';
import { readHead } from '../../src/read-head';
import type { GrubFacts, HostFacts, RootFacts } from './facts';
import { BOOT_DIR, vmlinuzPath } from './layout';

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
  readonly fsType: string;
  readonly source: string;
}

/** The last mount on / in mountinfo: "id parent major:minor root mountpoint options [optional…] - fstype source superoptions". */
export function rootMount(mountinfo: string): RootMount | null {
  let found: RootMount | null = null;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    const fields = left?.split(' ') ?? [];
    const [fsType, source] = right?.split(' ') ?? [];
    if (fields[4] === '/' && fsType && source && fields[2]) found = { devno: fields[2], fsType, source };
  }
  return found;
}

function frozenUnion(mount: RootMount): 'unionfs' | 'overlayfs' | 'dm' | 'none' {
  if (mount.fsType === 'fuse.unionfs') return 'unionfs';
  if (mount.fsType === 'overlay') return 'overlayfs';
  return tryRead(`/sys/dev/block/${mount.devno}/dm/name`)?.trim() === DM_NAME ? 'dm' : 'none';
}

function readRoot(): RootFacts {
  const mount = rootMount(tryRead('/proc/self/mountinfo') ?? '');
  if (!mount) return { kind: 'other', fsType: 'unknown', source: '(no / in /proc/self/mountinfo)' };
  if (existsSync(LOG_FILE)) return { kind: 'frozen', union: frozenUnion(mount) };
  let name: string;
  try {
    name = basename(realpathSync(`/sys/dev/block/${mount.devno}`));
  } catch {
    return { kind: 'other', fsType: mount.fsType, source: mount.source };
  }
  const device = `/dev/${name}`;
  let identity = null;
  try {
    identity = identifyFs(readHead(existsSync(device) ? device : mount.source, DETECT_BYTES));
  } catch {
    // Unreadable: reported as a root without a UUID.
  }
  const assembled = name.startsWith('dm-') ? 'dm' : name.startsWith('md') ? 'md' : null;
  return { kind: 'block', device, fsType: identity?.type ?? mount.fsType, uuid: identity?.uuid ?? null, assembled };
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

function missingPackages(): string[] {
  const missing: string[] = [];
  for (const tool of [TOOLS.busybox, TOOLS.dmsetup, TOOLS.zstd, TOOLS.ldd, TOOLS.libatomic]) {
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
  return {
    uid: process.getuid?.() ?? 0,
    hasBoot: existsSync(BOOT_DIR),
    kernels: installedKernels(),
    root: readRoot(),
    grub: readGrub(),
    missingPackages: missingPackages(),
    unions: hostCarriedKinds(),
  };
}
