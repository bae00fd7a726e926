// A System for plan mode: nothing runs, every command is recorded, and the
// in-memory machine (sys/memory.ts) is given an imagined RAM, root device
// and what it holds, so the real stages can go through a whole boot and say
// what they would do.

import { createHash } from 'node:crypto';
import { parseRootSpec, type RootSpec } from '../formats/device-spec';
import { lastParam, parseCmdline } from '../formats/cmdline';
import { IMAGE_CONFIG, IMAGE_UNIONS, SHUTDOWN_TOOLS, VOLUME_TOOLS, MODULES_ALIAS, MODULES_BUILTIN, MODULES_DEP, modulesDir, NEW_ROOT, RUNTIME_DIR, RUNTIME_IMAGE } from '../layout/image-paths';
import { commandOf } from '../sys/mount-op';
import { UNION_NAMES, type UnionName } from '../config/union-names';
import { carriedText } from '../union/carried';
import { HANDOVER_DIR, ISO_SCAN_DIR, MEDIUM_DIR, PERSIST_HOST_DIR } from '../layout/boot-paths';
import { parsePersistSpec } from '../formats/persist-spec';
import { writeSuperblock } from '../formats/verity-superblock';
import { SUMS_FILE } from '../storage/medium-checksums';
import { type MemoryNode, memoryMachine } from '../sys/memory';
import type { PathInfo, RunResult, System } from '../sys/system';
import { liveUrlOf } from '../net/live-image';
import { nfsRootOf } from '../net/nfs-root';
import { showNfsRoot } from '../formats/nfs-root';
import { type ImaginedVolumes, imagineVolumes, volumeOfPath } from './plan-volumes';

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
  'kernel/drivers/md/dm-verity.ko': ['kernel/drivers/md/dm-bufio.ko', 'kernel/drivers/md/dm-mod.ko'],
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
  'kernel/drivers/md/dm-crypt.ko': ['kernel/drivers/md/dm-mod.ko'],
  'kernel/crypto/xts.ko': [],
  'kernel/crypto/essiv.ko': [],
  'kernel/crypto/af_alg.ko': [],
  'kernel/crypto/algif_skcipher.ko': ['kernel/crypto/af_alg.ko'],
  'kernel/net/sunrpc/sunrpc.ko': [],
  'kernel/fs/nfs/nfs.ko': ['kernel/net/sunrpc/sunrpc.ko'],
  'kernel/fs/nfs/nfsv4.ko': ['kernel/fs/nfs/nfs.ko', 'kernel/net/sunrpc/sunrpc.ko'],
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
// What QEMU's user network hands out, as the lease udhcpc's script prints it.
const IMAGINED_LEASE = 'lease ip=10.0.2.15\nlease subnet=255.255.255.0\nlease router=10.0.2.2\nlease dns=10.0.2.3\n';

async function* pieces(...chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  yield* chunks;
}

/** eth0, wired, with QEMU's first hardware address: what the network roots bring up. */
function imagineWiredInterface(initial: Record<string, string | Uint8Array | MemoryNode>): void {
  initial['/sys/class/net/eth0/type'] = '1\n';
  initial['/sys/class/net/eth0/address'] = '52:54:00:12:34:56\n';
}

/**
 * A fetched image: a wired interface, a DHCP server, and a web server
 * holding a 1 MiB squashfs and (unless rd.live.sha256= gives the hash) its
 * SHA256SUMS. Returns what the server serves, by URL.
 */
function imagineServer(url: string | null, hashGiven: boolean, initial: Record<string, string | Uint8Array | MemoryNode>, assumptions: string[]): Map<string, Uint8Array> {
  const served = new Map<string, Uint8Array>();
  if (url === null) return served;
  imagineWiredInterface(initial);
  const image = Buffer.concat([superblock('squashfs', null, null), Buffer.alloc(1024 * 1024 - 0x10400)]);
  served.set(url, image);
  const name = new URL(url).pathname.split('/').pop() ?? '';
  if (!hashGiven) served.set(new URL('SHA256SUMS', url).href, Buffer.from(`${createHash('sha256').update(image).digest('hex')}  ${name}\n`));
  assumptions.push(`eth0 is wired, a DHCP server gives it 10.0.2.15/24, and the server holds ${url} (1 MiB of squashfs)${hashGiven ? '' : ' with SHA256SUMS beside it'}`);
  return served;
}

/** An NFS root: a wired interface, a DHCP server, and the server exporting the path over NFSv4. */
function imagineNfsServer(config: { readonly root: string | null; readonly nfsroot: string | null }, initial: Record<string, string | Uint8Array | MemoryNode>, assumptions: string[]): boolean {
  let nfs;
  try {
    nfs = nfsRootOf(config);
  } catch {
    // root=/dev/nfs without nfsroot=: the root stage says so, as at boot.
    return true;
  }
  if (nfs === null) return false;
  imagineWiredInterface(initial);
  assumptions.push(`eth0 is wired, a DHCP server gives it 10.0.2.15/24, and ${showNfsRoot(nfs.spec)} is exported over NFSv4`);
  return true;
}

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
    case 'vfat':
      put(0x52, 'FAT32');
      put(0x47, (label ?? 'NO NAME').padEnd(11, ' '));
      b.set([0x55, 0xaa], 510);
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

/**
 * persist=: its device holds a filesystem with no layer yet (a new layer is
 * made), or for a snapshot nothing at all; an image file sits on a FAT
 * stick. The image's tools for the shutdown return are there too.
 */
function imaginePersistence(text: string | null, store: boolean, initial: Record<string, string | Uint8Array | MemoryNode>, assumptions: string[]): void {
  const spec = text === null ? null : parsePersistSpec(text);
  if (spec === null) return;
  const name = spec.device.kind === 'path' ? spec.device.path.slice('/dev/'.length).replaceAll('/', '!') : 'sdb1';
  const tag = spec.device.kind === 'label' ? spec.device.value : null;
  const layer = store ? new Uint8Array(0x10400) : superblock('ext4', null, null);
  initial[`/sys/class/block/${name}/size`] = '4194304\n';
  initial[`/dev/${name}`] = spec.file === null ? (store ? layer : superblock('ext4', tag, null)) : superblock('vfat', tag, null);
  if (spec.file !== null) initial[`${PERSIST_HOST_DIR}${spec.file}`] = Buffer.concat([layer, Buffer.alloc(2 * 1024 * 1024)]);
  const holds = store ? 'nothing yet' : 'ext4 with no layer yet';
  assumptions.push(spec.file === null ? `${text} is /dev/${name}, holding ${holds}` : `${text}: /dev/${name} holds vfat with ${spec.file} on it, which holds ${holds}`);
}

export function planSystem(cmdline: string, imageConfig: string | null, unions: readonly UnionName[]): System & PlanMachine {
  // The boot's own parser, so the imagined machine follows the same value a boot would (the last).
  const parsed = parseCmdline(cmdline);
  const paramOf = (key: string) => lastParam(parsed, key)?.value ?? null;
  const commands: { stage: string; command: string }[] = [];
  const assumptions = [`${PLAN_RAM_KIB / 1024 / 1024}G of RAM`, `the running kernel is the one the image was built for (${PLAN_KERNEL})`];
  if (unions.length < UNION_NAMES.length) assumptions.push(`the image carries the union kinds ${unions.join(', ')}`);
  let clock = 0;

  const initial: Record<string, string | Uint8Array | MemoryNode> = {
    '/proc/cmdline': `${cmdline}\n`,
    ...(imageConfig !== null ? { [IMAGE_CONFIG]: imageConfig } : {}),
    [IMAGE_UNIONS]: carriedText(unions),
    '/proc/sys/kernel/printk': '4 4 1 7\n',
    '/proc/sys/kernel/printk_devkmsg': 'ratelimit\n',
    '/proc/sys/kernel/osrelease': `${PLAN_KERNEL}\n`,
    '/proc/meminfo': `MemTotal: ${PLAN_RAM_KIB} kB\nMemAvailable: ${Math.floor(PLAN_RAM_KIB * 0.9)} kB\n`,
    '/proc/filesystems': '\text4\n\tsquashfs\n\tiso9660\n',
    [`${modulesDir(PLAN_KERNEL)}/${MODULES_DEP}`]: Object.entries(MODULES).map(([path, deps]) => `${path}: ${deps.join(' ')}\n`).join(''),
    [`${modulesDir(PLAN_KERNEL)}/${MODULES_BUILTIN}`]: '',
    [`${modulesDir(PLAN_KERNEL)}/${MODULES_ALIAS}`]: '',
    // What the shutdown return and the fill watcher copy.
    [SHUTDOWN_TOOLS]: JSON.stringify({ busybox: '/bin/busybox', dmsetup: ['/usr/sbin/dmsetup'] }),
    '/bin/busybox': { kind: 'file', mode: 0o755, text: '', size: 2_000_000 },
    '/usr/sbin/dmsetup': { kind: 'file', mode: 0o755, text: '', size: 170_000 },
  };

  // The root device: found as root= names it, holding what rootfstype= (or
  // with loop=, a CD and an image of the type its name says) suggests. With
  // findiso=, it is a FAT stick (root=, or the first partition) holding the
  // ISO, and the ISO holds the image.
  const findiso = lastParam(parsed, 'findiso', 'iso-scan/filename')?.value ?? null;
  const rootText = paramOf('root') ?? (findiso ? '/dev/sda1' : null);
  const nfs = imagineNfsServer({ root: paramOf('root'), nfsroot: paramOf('nfsroot') }, initial, assumptions);
  const spec: RootSpec | null = rootText === null || nfs ? null : parseRootSpec(rootText);
  const loop = paramOf('loop');
  const fsType = findiso ? 'vfat' : (paramOf('rootfstype') ?? (loop ? 'iso9660' : 'ext4'));
  let volumes: ImaginedVolumes | null = null;
  if (spec) {
    const tag = spec.kind === 'path' ? null : spec;
    const label = tag?.kind === 'label' ? tag.value : null;
    const uuid = tag?.kind === 'uuid' && /^[0-9a-f-]{36}$/i.test(tag.value) ? tag.value : null;
    volumes = imagineVolumes(parsed, superblock(fsType, label, uuid), spec.kind === 'path' ? spec.path : null);
    // A root named by its volume's path is made by the volume's tool: the disk under it is sda1.
    const name = spec.kind === 'path' && !(volumes.disk && volumeOfPath(spec.path)) ? spec.path.slice('/dev/'.length).replaceAll('/', '!') : 'sda1';
    initial[`/sys/class/block/${name}/size`] = '4194304\n';
    if (name === 'sda1') {
      initial['/sys/class/block/sda1'] = { kind: 'symlink', target: '../../devices/plan/block/sda/sda1' };
      initial['/sys/class/block/sda1/partition'] = '1\n';
      initial['/dev/sda'] = gptDisk(tag?.kind === 'partuuid' ? tag.value : null, tag?.kind === 'partlabel' ? tag.value : null);
    }
    initial[`/dev/${name}`] = volumes.disk ?? superblock(fsType, label, uuid);
    if (volumes.disk) {
      for (const tool of Object.values(VOLUME_TOOLS)) initial[tool.path] = { kind: 'file', mode: 0o755, text: '' };
      assumptions.push(...volumes.assumptions, 'the image carries the volume tools (cowboot build --volumes)');
    }
    const imageFsType = loop ? (paramOf('loopfstype') ?? imageType(loop)) : null;
    const image = loop ? ` with ${loop} (${imageFsType}) on it` : '';
    const holding = volumes.disk ? `${rootText} holds ${fsType}, on /dev/${name}` : `${rootText} is /dev/${name}, holding ${fsType}${image}`;
    assumptions.push(findiso ? `/dev/${name} holds vfat with ${findiso} on it${loop ? `, which holds ${loop} (${imageFsType})` : ''}` : holding);
    if (findiso) initial[`${ISO_SCAN_DIR}${findiso}`] = Buffer.concat([superblock('iso9660', null, null), Buffer.alloc(1024 * 1024 - 0x10400)]);
    // An image of 1 MiB: a loop device over it shows its superblock; with verify, its sum is on the medium.
    if (loop && imageFsType) {
      const bytes = Buffer.concat([superblock(imageFsType, null, null), Buffer.alloc(1024 * 1024 - 0x10400)]);
      initial[`${MEDIUM_DIR}${loop}`] = bytes;
      if (lastParam(parsed, 'verify')) initial[`${MEDIUM_DIR}/${SUMS_FILE}`] = `${createHash('sha256').update(bytes).digest('hex')}  .${loop}\n`;
      // With roothash=, its hash tree beside it, as cowboot verity writes it: 256 data blocks.
      if (paramOf('roothash') !== null) {
        const sb = writeSuperblock({ hashType: 1, algorithm: 'sha256', dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: 256, salt: new Uint8Array(32) }, new Uint8Array(16));
        initial[`${MEDIUM_DIR}${loop}.verity`] = Buffer.concat([sb, Buffer.alloc(3 * 4096 - sb.length)]);
      }
    }
  }
  const served = imagineServer(liveUrlOf({ fetch: paramOf('fetch'), root: paramOf('root') }), paramOf('rd.live.sha256') !== null, initial, assumptions);
  imaginePersistence(lastParam(parsed, 'persist', 'rd.live.overlay')?.value ?? null, paramOf('overlay') === 'dm', initial, assumptions);
  // What /init's script does before the bundle runs, with the default --pack-runtime: its loop device is the first.
  const machine = memoryMachine({ ...initial, '/sys/block/loop0/loop/backing_file': `${RUNTIME_IMAGE}\n` });
  machine.mounts.push('/proc', '/dev', RUNTIME_DIR);
  assumptions.push(`the image's first step has mounted /proc, /dev and the runtime's image on ${RUNTIME_DIR}`);

  const run = (argv: readonly string[], input?: Uint8Array): RunResult => {
    plan.commands.push({ stage: plan.stage, command: `${argv.join(' ')}${input ? ' < (the passphrase)' : ''}` });
    if (argv[0] === 'udhcpc') return { status: 0, signal: null, stdout: IMAGINED_LEASE, stderr: '' };
    const made = volumes?.react(argv, machine.files);
    if (made) return made;
    machine.react(argv);
    return { status: 0, signal: null, stdout: '', stderr: '' };
  };

  const plan: System & PlanMachine = {
    commands,
    assumptions,
    stage: '(before the stages)',
    run: async (argv, options) => run(argv, options?.input),
    mount: async (op) => run(commandOf(op)),
    readText: (path) => machine.readText(path),
    readHead: (path, length) => machine.readHead(path, length),
    writeText: (path, text, mode) => machine.writeText(path, text, mode),
    createSparseFile: (path, bytes) => machine.createSparseFile(path, bytes),
    appendBytes: (path, bytes) => machine.appendBytes(path, bytes),
    async connectTcp(host, port) {
      commands.push({ stage: plan.stage, command: `(connect to ${host}:${port})` });
      return { address: host };
    },
    async httpGet(url, request) {
      commands.push({ stage: plan.stage, command: `(GET ${url}${request.headers?.range ? `, ${request.headers.range}` : ''})` });
      const body = served.get(url);
      if (!body) return { status: 404, headers: {}, body: pieces() };
      return { status: 200, headers: { 'content-length': String(body.length) }, body: pieces(body) };
    },
    async copyFile(from, to) {
      commands.push({ stage: plan.stage, command: `(copy ${from} to ${to})` });
      machine.copyFile(from, to);
    },
    async sha256(path, progress) {
      commands.push({ stage: plan.stage, command: `(read ${path} and compute its SHA-256)` });
      const bytes = machine.bytes(path);
      progress(bytes.length);
      return createHash('sha256').update(bytes).digest('hex');
    },
    mkdirp: (path) => machine.mkdirp(path),
    lstat(path): PathInfo | null {
      // The new root is imagined whole: every folder is there, and init= is an executable file. What /init puts in it is not imagined.
      if (path === `${NEW_ROOT}${paramOf('init') ?? '/sbin/init'}`) return { kind: 'file', mode: 0o755, size: 0 };
      if (path.startsWith(`${NEW_ROOT}/`) && !path.startsWith(`${NEW_ROOT}${HANDOVER_DIR}/`)) return { kind: 'dir', mode: 0o755, size: 0 };
      return machine.lstat(path);
    },
    readlink: (path) => machine.readlink(path),
    symlink: (target, path) => machine.symlink(target, path),
    readdir: (path) => machine.readdir(path),
    waitForPath: async (path) => machine.files.has(path),
    deviceEvents: () => 0,
    waitForDeviceEvent: async () => undefined,
    now: () => (clock += 1),
    sleep: async () => undefined,
    writeConsole: () => undefined,
    writeKmsg: () => true,
    execve(_file, argv) {
      commands.push({ stage: plan.stage, command: `exec ${argv.join(' ')}` });
      return undefined as never;
    },
    interactiveShell: async () => undefined,
    async readSecret(prompt) {
      commands.push({ stage: plan.stage, command: `(asks on the console, echo off: ${prompt.trim()})` });
      return Buffer.from('(typed)');
    },
    reapOrphans: () => [],
  };
  return plan;
}
