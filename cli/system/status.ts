// cowboot status: which kernels have a current image, which boot entry is
// the default, and whether this system is frozen now and how full its RAM
// layer is. Judged by pure functions over what read() gathers.

import { describeStack } from '../../builder/volume-stack';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readImage } from '../../builder/inspect';
import { IMAGE_CONFIG, IMAGE_UNIONS, INIT_BUNDLE, KERNEL_STAMP, MODULES_DEP, modulesDir, RUNTIME_IMAGE } from '../../src/layout/image-paths';
import { parseCarried } from '../../src/union/carried';
import { COW_DIR, DM_NAME, MOUNTS_DIR } from '../../src/layout/boot-paths';
import { formatMiB as mib } from '../../src/formats/size';
import { FILL_STEPS, fillPercent, RAM_LAYERS } from '../../src/union/fill';
import { UNION_KINDS } from '../../src/union';
import { INSTALLED_MARKER, RUNTIME_IMAGE_FILE } from '../assets';
import { bootLoaderOf, type HostFacts, type RootFacts } from './facts';
import { parseEntry, systemdBootDefault } from './systemd-boot';
import { cowbootImages } from './install';
import { BOOT_DIR, CONFIG_FILE, ENTRY_SUFFIX, imagePath, kernelOfImage, LIB_DIR } from './layout';

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** What an image holds that decides whether it is current, and when it was written. */
export interface ImageFacts {
  readonly kernel: string | null;
  readonly init: string | null;
  readonly config: string | null;
  /** The runtime's squashfs image, as a digest. */
  readonly node: string | null;
  /** The overlay= kinds it carries, as its IMAGE_UNIONS file lists them. */
  readonly unions: string | null;
  readonly mtimeMs: number;
}

/** What the installed copy would put into an image now. */
export interface Wanted {
  readonly init: string;
  readonly config: string;
  readonly node: string;
}

export type ImageState = { readonly current: true } | { readonly current: false; readonly why: string };

export function imageState(kernel: string, image: ImageFacts | null | 'unreadable', wanted: Wanted, modulesMtimeMs: number): ImageState {
  if (image === null) return { current: false, why: `missing: no ${imagePath(kernel)}` };
  if (image === 'unreadable') return { current: false, why: `unreadable: ${imagePath(kernel)} is not an initramfs` };
  if (image.kernel !== kernel) return { current: false, why: `stale: built for ${image.kernel ?? 'no kernel'}` };
  if (image.init !== wanted.init) return { current: false, why: 'stale: built by another version of cowboot' };
  if (image.config !== wanted.config) return { current: false, why: `stale: built with other defaults than ${CONFIG_FILE}` };
  if (image.node !== wanted.node) return { current: false, why: 'stale: built with another Node binary' };
  if (modulesMtimeMs > image.mtimeMs) return { current: false, why: `stale: the kernel's modules changed after it was built (${modulesDir(kernel)}/${MODULES_DEP} is newer)` };
  return { current: true };
}

/** The entries at the top level of grub.cfg, in order (a submenu counts as one, as GRUB counts). */
export function grubEntries(grubCfg: string): { title: string; id: string | null }[] {
  return [...grubCfg.matchAll(/^(?:menuentry|submenu) '((?:[^'\\]|'\\'')*)'(.*)$/gm)].map((m) => ({
    title: m[1]!.replaceAll("'\\''", "'"),
    id: / '([^']+)' \{$/.exec(m[2] ?? '')?.[1] ?? null,
  }));
}

/** GRUB's default entry, as GRUB_DEFAULT (and, for "saved", grubenv) names it. */
export function grubDefault(grubCfg: string, grubDefaultValue: string, savedEntry: string | null): string {
  const entries = grubEntries(grubCfg);
  const value = grubDefaultValue === 'saved' ? (savedEntry ?? '0') : grubDefaultValue;
  const how = grubDefaultValue === 'saved' ? `GRUB_DEFAULT=saved, saved_entry=${savedEntry ?? '(none: 0)'}` : `GRUB_DEFAULT=${grubDefaultValue}`;
  const entry = /^\d+$/.test(value) ? entries[Number(value)] : entries.find((e) => e.title === value || e.id === value);
  if (!entry) return `GRUB's default (${how}) names no entry of ${BOOT_DIR}/grub/grub.cfg`;
  const frozen = entry.title.endsWith(ENTRY_SUFFIX);
  return `GRUB's default is "${entry.title}" (${how}): ${frozen ? 'frozen' : 'not frozen'}`;
}


export interface RamUse {
  readonly what: string;
  readonly used: number;
  readonly total: number;
}

export function frozenLine(root: RootFacts, ram: readonly RamUse[]): string {
  if (root.kind !== 'frozen') return `not frozen: / is ${root.fsType} ${root.kind === 'block' ? `on ${describeStack(root.stack)}` : `from ${root.source}`}`;
  const uses = ram.map((r) => {
    const percent = fillPercent(r.used, r.total);
    const mark = percent >= 100 ? ', full' : percent >= FILL_STEPS[0].percent ? ', nearly full' : '';
    return `${r.what}: ${mib(r.used)} of ${mib(r.total)} (${percent}%${mark})`;
  });
  const over = root.medium.length > 0 ? `, over ${describeStack(root.medium)}` : '';
  return `frozen now (overlay=${root.union}${over}), changes in RAM${uses.length ? `; ${uses.join('; ')}` : ''}`;
}

function readImageFacts(path: string): ImageFacts | null | 'unreadable' {
  if (!existsSync(path)) return null;
  try {
    const entries = readImage(path);
    const file = (p: string) => entries.find((e) => e.path === p.replace(/^\//, ''))?.data ?? null;
    const text = (p: string) => {
      const data = file(p);
      return data ? Buffer.from(data).toString().trim() : null;
    };
    // The installed copy builds with the runtime as a squashfs image (image.ts), the bundle beside it.
    const node = file(RUNTIME_IMAGE);
    const init = file(INIT_BUNDLE);
    const unions = text(IMAGE_UNIONS);
    return {
      kernel: text(KERNEL_STAMP),
      init: init && sha(init),
      config: text(IMAGE_CONFIG),
      node: node && sha(node),
      unions: unions && (parseCarried(unions)?.join(', ') ?? unions),
      mtimeMs: statSync(path).mtimeMs,
    };
  } catch {
    return 'unreadable';
  }
}

function mountedAt(path: string): boolean {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((line) => line.split(' ')[4] === path);
}

function ramUse(root: RootFacts): RamUse[] {
  if (root.kind !== 'frozen') return [];
  const uses: RamUse[] = [];
  const tmpfs = (what: string, path: string) => {
    if (!mountedAt(path)) return;
    const s = statfsSync(path);
    uses.push({ what, used: (s.blocks - s.bfree) * s.bsize, total: s.blocks * s.bsize });
  };
  // Where the union's row says its changes fill, as the fill watcher measures them.
  switch (UNION_KINDS[root.union].ramLayer?.holds) {
    case 'snapshot': {
      // "0 LEN snapshot USED/TOTAL METADATA", in sectors.
      const status = spawnSync('dmsetup', ['status', DM_NAME], { encoding: 'utf8' }).stdout ?? '';
      const m = / snapshot (\d+)\/(\d+) /.exec(status);
      if (m) uses.push({ what: RAM_LAYERS.snapshot, used: Number(m[1]) * 512, total: Number(m[2]) * 512 });
      break;
    }
    case 'cow tmpfs':
      tmpfs(RAM_LAYERS.root, COW_DIR);
      break;
    case undefined:
      break;
  }
  tmpfs(RAM_LAYERS.mounts, MOUNTS_DIR);
  return uses;
}

/** The default entry of the boot loader install would use. */
function bootLoaderLine(facts: HostFacts): string {
  const grubCfg = `${BOOT_DIR}/grub/grub.cfg`;
  switch (bootLoaderOf(facts)) {
    case 'systemd-boot': {
      const boot = facts.systemdBoot!;
      const dir = `${boot.bootRoot}/loader/entries`;
      const entries = readdirSync(dir).filter((name) => name.endsWith('.conf')).map((name) => parseEntry(name, readFileSync(join(dir, name), 'utf8')));
      return systemdBootDefault(entries, boot.loaderDefault, `${boot.bootRoot}/loader/loader.conf`, boot.loaderVariables);
    }
    case 'grub':
      if (existsSync(grubCfg)) {
        const env = existsSync(`${BOOT_DIR}/grub/grubenv`) ? readFileSync(`${BOOT_DIR}/grub/grubenv`, 'utf8') : '';
        return grubDefault(readFileSync(grubCfg, 'utf8'), facts.grub!.defaultEntry, /^saved_entry=(.*)$/m.exec(env)?.[1] ?? null);
      }
      return `no GRUB configuration (${grubCfg})`;
    case null:
      return `no boot loader found: no GRUB configuration (${grubCfg}), no systemd-boot that bootctl finds`;
  }
}

export function status(facts: HostFacts): string {
  const lines: string[] = [];
  const installed = existsSync(join(LIB_DIR, INSTALLED_MARKER));
  if (!installed) lines.push(`cowboot is not installed (no ${LIB_DIR})`);
  else if (!existsSync(CONFIG_FILE)) lines.push(`cowboot is installed in ${LIB_DIR}, but ${CONFIG_FILE} is gone: run cowboot install again`);
  else {
    const config = readFileSync(CONFIG_FILE, 'utf8').trim();
    lines.push(`cowboot is installed in ${LIB_DIR}; image defaults (${CONFIG_FILE}): ${JSON.stringify(JSON.parse(config))}`);
    const wanted: Wanted = { init: sha(readFileSync(join(LIB_DIR, 'init.js'))), config, node: sha(readFileSync(join(LIB_DIR, RUNTIME_IMAGE_FILE))) };
    for (const kernel of facts.kernels) {
      const modules = `${modulesDir(kernel)}/${MODULES_DEP}`;
      const image = readImageFacts(imagePath(kernel));
      const state = imageState(kernel, image, wanted, existsSync(modules) ? statSync(modules).mtimeMs : 0);
      const unions = image !== null && image !== 'unreadable' && image.unions !== null ? `; union kinds: ${image.unions}` : '';
      lines.push(`  ${kernel}: ${state.current ? `current (${imagePath(kernel)})` : `${state.why}; run: cowboot update ${kernel}`}${unions}`);
    }
    for (const path of cowbootImages()) {
      if (!facts.kernels.includes(kernelOfImage(path.slice(BOOT_DIR.length + 1))!)) lines.push(`  ${path}: its kernel is gone; cowboot update removes it`);
    }
  }
  lines.push(bootLoaderLine(facts));
  lines.push(frozenLine(facts.root, ramUse(facts.root)));
  return `${lines.join('\n')}\n`;
}
