// A System for plan mode: nothing runs, every command is recorded, and the
// machine is imagined (RAM, the root device and what it holds) so the real
// stages can go through a whole boot and say what they would do.

import { parseRootSpec, type RootSpec } from '../blkid/root-spec';
import { lastParam, parseCmdline } from '../cmdline';
import { IMAGE_CONFIG, MODULES_ALIAS, MODULES_BUILTIN, MODULES_DEP, modulesDir, NEW_ROOT } from '../image-layout';
import { commandOf } from '../mount-op';
import type { PathInfo, RunResult, System } from '../system';

const PLAN_KERNEL = 'VERSION';
const PLAN_RAM_KIB = 2 * 1024 * 1024;

// Where these modules sit in every kernel tree, and what each needs.
const MODULES: Readonly<Record<string, readonly string[]>> = {
  'kernel/fs/fuse/fuse.ko': [],
  'kernel/fs/overlayfs/overlay.ko': [],
  'kernel/drivers/block/loop.ko': [],
  'kernel/drivers/md/dm-mod.ko': [],
  'kernel/drivers/md/dm-bufio.ko': [],
  'kernel/drivers/md/dm-snapshot.ko': ['kernel/drivers/md/dm-bufio.ko', 'kernel/drivers/md/dm-mod.ko'],
  'kernel/lib/crc16.ko': [],
  'kernel/fs/mbcache.ko': [],
  'kernel/fs/jbd2/jbd2.ko': [],
  'kernel/fs/ext4/ext4.ko': ['kernel/lib/crc16.ko', 'kernel/fs/mbcache.ko', 'kernel/fs/jbd2/jbd2.ko'],
  'kernel/fs/squashfs/squashfs.ko': [],
  'kernel/fs/isofs/isofs.ko': [],
  'kernel/fs/erofs/erofs.ko': [],
  'kernel/fs/fat/fat.ko': [],
  'kernel/fs/fat/vfat.ko': ['kernel/fs/fat/fat.ko'],
  'kernel/fs/xfs/xfs.ko': [],
  'kernel/fs/btrfs/btrfs.ko': [],
};

interface PlanMachine {
  /** Where each stage's commands go, in order. */
  readonly commands: { stage: string; command: string }[];
  /** The stage running now, which plan mode follows by the stage machine's events. */
  stage: string;
  /** What plan mode takes for granted, to print with the plan. */
  readonly assumptions: string[];
}

/** The bytes a device of this type would start with, label and all. */
function superblock(type: string, label: string | null, uuid: string | null): Uint8Array {
  const b = new Uint8Array(0x10400);
  const put = (at: number, text: string) => b.set(Buffer.from(text, 'latin1'), at);
  switch (type) {
    case 'squashfs':
      put(0, 'hsqs');
      break;
    case 'iso9660':
      put(0x8001, 'CD001');
      put(0x8028, (label ?? '').padEnd(32, ' '));
      break;
    case 'erofs':
      b.set([0xe2, 0xe1, 0xf5, 0xe0], 1024);
      break;
    default: {
      // ext4 (extents) unless the type is ext2/ext3.
      b.set([0x53, 0xef], 1024 + 0x38);
      if (type === 'ext4') b[1024 + 0x60] = 0x40;
      if (type === 'ext3') b[1024 + 0x5c] = 0x4;
      put(1024 + 0x78, (label ?? '').slice(0, 16));
      if (uuid) b.set(Buffer.from(uuid.replaceAll('-', ''), 'hex').subarray(0, 16), 1024 + 0x68);
    }
  }
  return b;
}

/** A GPT disk whose first partition has this PARTUUID and PARTLABEL. */
function gptDisk(partuuid: string | null, partlabel: string | null): Uint8Array {
  const b = new Uint8Array(0x10400);
  b.set(Buffer.from('EFI PART', 'latin1'), 512);
  b.set([2], 512 + 72); // entries at LBA 2
  b.set([1], 512 + 80); // one entry
  b.set([128], 512 + 84);
  const entry = 1024;
  b.set([1], entry); // a type GUID that is not zero: the entry is used
  const hex = (partuuid ?? '00000000-0000-0000-0000-000000000001').replaceAll('-', '');
  const bytes = Buffer.from(hex, 'hex');
  // GPT keeps the first three fields little-endian.
  b.set([...bytes.subarray(0, 4)].reverse(), entry + 16);
  b.set([...bytes.subarray(4, 6)].reverse(), entry + 20);
  b.set([...bytes.subarray(6, 8)].reverse(), entry + 22);
  b.set(bytes.subarray(8, 16), entry + 24);
  if (partlabel) b.set(Buffer.from(partlabel, 'utf16le'), entry + 56);
  return b;
}

function imageType(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1);
  return { squashfs: 'squashfs', sqfs: 'squashfs', ext2: 'ext2', ext3: 'ext3', erofs: 'erofs', iso: 'iso9660' }[ext] ?? 'ext4';
}

export function planSystem(cmdline: string, imageConfig: string | null): System & PlanMachine {
  // The boot's own parser, so the imagined machine follows the same value a boot would (the last).
  const parsed = parseCmdline(cmdline);
  const paramOf = (key: string) => lastParam(parsed, key)?.value ?? null;
  const files = new Map<string, string | Uint8Array>();
  const mounts = new Set<string>();
  const commands: { stage: string; command: string }[] = [];
  const assumptions = [`${PLAN_RAM_KIB / 1024 / 1024}G of RAM`, `the running kernel is the one the image was built for (${PLAN_KERNEL})`];
  let clock = 0;

  const set = (path: string, content: string | Uint8Array) => files.set(path, content);
  set('/proc/cmdline', `${cmdline}\n`);
  if (imageConfig !== null) set(IMAGE_CONFIG, imageConfig);
  set('/proc/sys/kernel/printk', '4 4 1 7\n');
  set('/proc/sys/kernel/printk_devkmsg', 'ratelimit\n');
  set('/proc/sys/kernel/osrelease', `${PLAN_KERNEL}\n`);
  set('/proc/meminfo', `MemTotal: ${PLAN_RAM_KIB} kB\nMemAvailable: ${PLAN_RAM_KIB * 0.9} kB\n`);
  set('/proc/filesystems', '\text4\n\tsquashfs\n\tiso9660\n');
  const kernelDir = modulesDir(PLAN_KERNEL);
  set(`${kernelDir}/${MODULES_DEP}`, Object.entries(MODULES).map(([path, deps]) => `${path}: ${deps.join(' ')}\n`).join(''));
  set(`${kernelDir}/${MODULES_BUILTIN}`, '');
  set(`${kernelDir}/${MODULES_ALIAS}`, '');

  // The root device: found as root= names it, holding what rootfstype= (or
  // with loop=, a CD and an image of the type its name says) suggests.
  const rootText = paramOf('root');
  const spec: RootSpec | null = rootText === null ? null : parseRootSpec(rootText);
  const loop = paramOf('loop');
  const fsType = paramOf('rootfstype') ?? (loop ? 'iso9660' : 'ext4');
  if (spec) {
    const tag = spec.kind === 'path' ? null : spec;
    const name = spec.kind === 'path' ? spec.path.slice('/dev/'.length).replaceAll('/', '!') : 'sda1';
    const label = tag?.kind === 'label' ? tag.value : null;
    const uuid = tag?.kind === 'uuid' && /^[0-9a-f-]{36}$/i.test(tag.value) ? tag.value : null;
    set(`/sys/class/block/${name}/size`, '4194304\n');
    if (name === 'sda1') {
      set('/sys/class/block/sda1/partition', '1\n');
      set('/dev/sda', gptDisk(tag?.kind === 'partuuid' ? tag.value : null, tag?.kind === 'partlabel' ? tag.value : null));
    }
    set(`/dev/${name}`, superblock(fsType, label, uuid));
    assumptions.push(`${rootText} is /dev/${name}, holding ${fsType}${loop ? ` with ${loop} (${paramOf('loopfstype') ?? imageType(loop)}) on it` : ''}`);
    if (loop) set(`${'/run/initramfs/live'}${loop}`, 'x'.repeat(1024 * 1024));
  }

  const run = (argv: readonly string[]): RunResult => {
    const [cmd, ...args] = argv;
    commands.push({ stage: machine.stage, command: argv.join(' ') });
    if (cmd === 'mount' && args[0] === '--move') {
      for (const m of [...mounts]) if (m === args[1] || m.startsWith(`${args[1]}/`)) {
        mounts.delete(m);
        mounts.add(`${args[2]}${m.slice(args[1]!.length)}`);
      }
    } else if (cmd === 'mount' || cmd === 'unionfs') mounts.add(args[args.length - 1]!);
    else if (cmd === 'umount') mounts.delete(args[0]!);
    else if (cmd === 'losetup') {
      const file = args[args.length - 1]!;
      const n = [...files.keys()].filter((p) => p.endsWith('/loop/backing_file')).length;
      set(`/sys/block/loop${n}/loop/backing_file`, `${file}\n`);
      set(`/sys/class/block/loop${n}/size`, '2097152\n');
      const type = file.startsWith('/run/initramfs/cow') ? 'none' : paramOf('loopfstype') ?? imageType(file);
      set(`/dev/loop${n}`, superblock(type, null, null));
    } else if (cmd === 'dmsetup' && args.includes('mknodes')) set('/dev/mapper/cowboot-root', '');
    else if (cmd === 'modprobe' && args[0] === 'brd') {
      set('/dev/ram0', '');
      set('/sys/class/block/ram0/size', `${Number(/rd_size=(\d+)/.exec(args.join(' '))?.[1] ?? 0) * 2}\n`);
    }
    return { status: 0, signal: null, stdout: '', stderr: '' };
  };

  const exists = (path: string) => files.has(path) || [...files.keys()].some((p) => p.startsWith(`${path}/`));
  const machine: System & PlanMachine = {
    commands,
    assumptions,
    stage: '(before the stages)',
    run: async (argv) => run(argv),
    mount: async (op) => run(commandOf(op)),
    readText(path) {
      if (path.endsWith('/proc/self/mounts') && mounts.has(path.replace('/self/mounts', ''))) return [...mounts].map((m) => `x ${m} x rw 0 0\n`).join('');
      if (path === '/proc/4242/cmdline') return `@unionfs\0${NEW_ROOT}\0`;
      const content = files.get(path);
      if (content === undefined) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
      return typeof content === 'string' ? content : Buffer.from(content).toString('latin1');
    },
    readHead(path, length) {
      const content = files.get(path);
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      return (typeof content === 'string' ? Buffer.from(content, 'latin1') : content).subarray(0, length);
    },
    writeText: (path, text) => set(path, text),
    createSparseFile: (path) => set(path, ''),
    async copyFile(from, to) {
      commands.push({ stage: machine.stage, command: `(copy ${from} to ${to})` });
      set(to, files.get(from) ?? '');
    },
    mkdirp: () => undefined,
    lstat(path): PathInfo | null {
      if (path === `${NEW_ROOT}/sbin/init` || path.startsWith(`${NEW_ROOT}/`) && paramOf('init') && path === `${NEW_ROOT}${paramOf('init')}`) return { kind: 'file', mode: 0o755, size: 0 };
      if (path.startsWith(`${NEW_ROOT}/`)) return { kind: 'dir', mode: 0o755, size: 0 };
      const content = files.get(path);
      if (content !== undefined) return { kind: 'file', mode: 0o644, size: content.length };
      return exists(path) ? { kind: 'dir', mode: 0o755, size: 0 } : null;
    },
    readlink: (path) => (path === '/sys/class/block/sda1' ? '../../devices/plan/block/sda/sda1' : ''),
    symlink: () => undefined,
    readdir(path) {
      if (path === '/proc') return mounts.has(NEW_ROOT) ? ['4242'] : [];
      const prefix = `${path}/`;
      return [...new Set([...files.keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]!))].sort();
    },
    waitForPath: async (path) => files.has(path),
    deviceEvents: () => 0,
    waitForDeviceEvent: async () => undefined,
    now: () => (clock += 1),
    sleep: async () => undefined,
    writeConsole: () => undefined,
    writeKmsg: () => true,
    execve(_file, argv) {
      commands.push({ stage: machine.stage, command: `exec ${argv.join(' ')}` });
      return undefined as never;
    },
    interactiveShell: async () => undefined,
    readSecret: async () => null,
    reapOrphans: () => [],
  };
  return machine;
}
