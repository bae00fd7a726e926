// A recording fake of the System interface: the in-memory machine that plan
// mode imagines, scripted command results, and a journal of every call in order.

import { createHash } from 'node:crypto';
import * as assert from 'uvu/assert';
import { boot, createContext } from '../../src/boot';
import { commandOf } from '../../src/sys/mount-op';
import { type MemoryNode, memoryMachine } from '../../src/sys/memory';
import type { HttpRequest, HttpResponse, RunResult, System } from '../../src/sys/system';


export interface FakeSystem extends System {
  readonly calls: string[];
  readonly console: string[];
  readonly kmsg: string[];
  readonly files: Map<string, MemoryNode>;
  /** What a command returns, by its argv joined with spaces; default: success. */
  readonly results: Map<string, Partial<RunResult>>;
  /** Mount points, kept up to date by the in-memory machine as commands succeed. */
  readonly mounts: string[];
  execveCalls: { file: string; argv: readonly string[]; env: Readonly<Record<string, string>> }[];
  kmsgAvailable: boolean;
  /** Paths that appear when waited for. */
  readonly appearing: Set<string>;
  shells: number;
  /** Run by each interactive shell, to play the user. */
  onShell: () => void;
  /** Answers to password prompts, in order; null when they run out. */
  readonly secrets: string[];
  /** What each run was given on stdin, as text, in the order of the runs (null: nothing). */
  readonly inputs: (string | null)[];
  events: number;
  /** Run while the boot waits for a device: the place for a device to appear. */
  onDeviceWait: () => void;
  /** Paths whose writes the kernel refuses (EINVAL), as a locked sysctl does. */
  readonly refused: Set<string>;
  /** The web servers the test stands up, by URL; an unknown URL is a refused connection. */
  readonly servers: Map<string, (request: HttpRequest) => HttpResponse>;
  /** What accepts TCP connections, as HOST:PORT, and the address each resolves to; anything else refuses. */
  readonly listening: Map<string, string>;
}

const MAX_SHELLS = 5;

/** A kernel for the fake, its version and the modules the image would carry, and the image's tools. */
const KERNEL_FILES: Record<string, MemoryNode | string> = {
  '/proc/sys/kernel/osrelease': '6.1.0-test\n',
  '/etc/cowboot-kernel': '6.1.0-test\n',
  '/lib/modules/6.1.0-test/modules.dep': [
    'kernel/drivers/virtio/virtio_blk.ko:',
    'kernel/fs/fuse/fuse.ko:',
    'kernel/fs/overlayfs/overlay.ko:',
    'kernel/drivers/block/loop.ko:',
    'kernel/drivers/md/dm-snapshot.ko: kernel/drivers/md/dm-mod.ko',
    'kernel/drivers/md/dm-verity.ko: kernel/drivers/md/dm-mod.ko',
    'kernel/drivers/md/dm-mod.ko:',
    'kernel/fs/ext4/ext4.ko:',
    'kernel/fs/btrfs/btrfs.ko:',
    'kernel/fs/squashfs/squashfs.ko:',
    'kernel/fs/isofs/isofs.ko:',
    'kernel/fs/fat/vfat.ko:',
    '',
  ].join('\n'),
  '/lib/modules/6.1.0-test/modules.builtin': 'kernel/drivers/virtio/virtio_pci.ko\n',
  '/lib/modules/6.1.0-test/modules.alias': 'alias virtio:d00000002v* virtio_blk\n',
  '/sys/bus/virtio/devices/virtio0/modalias': 'virtio:d00000002v00001AF4\n',
  // What the shutdown return copies out of the image.
  '/etc/cowboot-shutdown-tools.json': JSON.stringify({ busybox: '/bin/busybox', dmsetup: ['/usr/sbin/dmsetup', '/lib/libdevmapper.so.1'] }),
  '/bin/busybox': { kind: 'file', mode: 0o755, text: 'b'.repeat(2000) },
  '/usr/sbin/dmsetup': { kind: 'file', mode: 0o755, text: 'd'.repeat(100) },
  '/lib/libdevmapper.so.1': { kind: 'file', mode: 0o755, text: 'l'.repeat(300) },
};

/** The insmod of a module of KERNEL_FILES, as the fake's journal shows it. */
export const insmod = (path: string) => `run insmod /lib/modules/6.1.0-test/kernel/${path}`;

export function fakeSystem(initial: Record<string, MemoryNode | string> = {}): FakeSystem {
  const machine = memoryMachine({ ...KERNEL_FILES, ...initial });
  let clock = 0;
  const sys: FakeSystem = {
    calls: [],
    console: [],
    kmsg: [],
    files: machine.files,
    results: new Map(),
    mounts: machine.mounts,
    execveCalls: [],
    kmsgAvailable: true,
    appearing: new Set(),
    shells: 0,
    onShell: () => undefined,
    secrets: [],
    inputs: [],
    events: 0,
    onDeviceWait: () => undefined,
    refused: new Set(),
    servers: new Map(),
    listening: new Map(),
    async connectTcp(host, port) {
      sys.calls.push(`connect ${host}:${port}`);
      const address = sys.listening.get(`${host}:${port}`);
      return address === undefined ? { error: `connect ECONNREFUSED ${host}:${port}` } : { address };
    },
    async httpGet(url, request) {
      const range = request.headers?.range;
      sys.calls.push(`get ${url}${range ? ` (${range})` : ''}`);
      const serve = sys.servers.get(url);
      if (!serve) throw Object.assign(new Error(`connect ECONNREFUSED ${new URL(url).host}`), { code: 'ECONNREFUSED' });
      return serve(request);
    },
    appendBytes: (path, bytes) => machine.appendBytes(path, bytes),
    async readSecret(prompt) {
      sys.calls.push(`ask ${prompt}`);
      const secret = sys.secrets.shift();
      return secret === undefined ? null : Buffer.from(secret);
    },
    reapOrphans: () => [],
    // Recorded as the command it stands for, so transcripts read as a user would type them.
    mount: (op) => sys.run(commandOf(op)),
    async run(argv, options = {}) {
      const key = argv.join(' ');
      sys.calls.push(`run ${options.argv0 ? `(argv0 ${options.argv0}) ` : ''}${key}${options.input ? ` < (${options.input.length} bytes)` : ''}`);
      sys.inputs.push(options.input ? Buffer.from(options.input).toString() : null);
      clock += 10;
      const result = { status: 0, signal: null, stdout: '', stderr: '', ...sys.results.get(key) };
      if (result.status === 0) machine.react(argv);
      return result;
    },
    readText: (path) => machine.readText(path),
    readHead: (path, length) => machine.readHead(path, length),
    writeText(path, text, mode) {
      if (sys.refused.has(path)) throw Object.assign(new Error(`EINVAL: invalid argument, write ${path}`), { code: 'EINVAL' });
      sys.calls.push(`write ${path}${mode === undefined ? '' : ` (mode ${mode.toString(8)})`}`);
      machine.writeText(path, text, mode);
    },
    createSparseFile(path, bytes) {
      sys.calls.push(`sparse ${path} ${bytes}`);
      machine.createSparseFile(path, bytes);
    },
    async copyFile(from, to) {
      sys.calls.push(`copy ${from} ${to}`);
      machine.copyFile(from, to);
    },
    async sha256(path, progress) {
      sys.calls.push(`sha256 ${path}`);
      const bytes = machine.bytes(path);
      progress(bytes.length);
      return createHash('sha256').update(bytes).digest('hex');
    },
    mkdirp(path) {
      sys.calls.push(`mkdir ${path}`);
      machine.mkdirp(path);
    },
    lstat: (path) => machine.lstat(path),
    readlink: (path) => machine.readlink(path),
    symlink(target, path) {
      sys.calls.push(`symlink ${path} -> ${target}`);
      machine.symlink(target, path);
    },
    deviceEvents: () => sys.events,
    async waitForDeviceEvent(seen, timeoutMs) {
      sys.calls.push(`wait-device ${seen} ${timeoutMs}`);
      clock += Number.isFinite(timeoutMs) ? timeoutMs : 1000;
      sys.onDeviceWait();
    },
    readdir: (path) => machine.readdir(path),
    async waitForPath(path, timeoutMs) {
      sys.calls.push(`wait ${path} ${timeoutMs}`);
      if (sys.appearing.has(path)) machine.writeText(path, '');
      return sys.files.has(path);
    },
    now: () => (clock += 1),
    async sleep(ms) {
      clock += ms;
    },
    writeConsole(text) {
      sys.console.push(text);
    },
    writeKmsg(record) {
      if (!sys.kmsgAvailable) return false;
      sys.kmsg.push(record);
      return true;
    },
    execve(file, argv, env) {
      sys.calls.push(`execve ${file} ${argv.join(' ')}`);
      sys.execveCalls.push({ file, argv, env });
      // A real execve never returns; returning from the fake lets the last stage end the boot.
      return undefined as never;
    },
    async interactiveShell(argv) {
      sys.calls.push(`shell ${argv.join(' ')}`);
      // A boot that keeps failing would loop through the rescue shell for
      // ever; stop it loudly with what it printed.
      if (++sys.shells > MAX_SHELLS) {
        await new Promise(() => undefined);
      }
      sys.onShell();
    },
  };
  return sys;
}

/**
 * Runs a whole boot against the fake until it hands over, or until `done`
 * holds (for boots that stop for ever, such as rd.shell=0).
 */
export async function bootFake(sys: FakeSystem, done: () => boolean = () => false, args: string[] = []): Promise<void> {
  let finished = false;
  void boot(createContext(sys, args, {})).then(() => (finished = true));
  for (let i = 0; i < 1000 && !finished && !done(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(finished || done(), `the boot neither finished nor reached its end state:\n${sys.console.join('')}`);
}

/** Superblocks as a CD, an ext4 disk and a squashfs image start. */
export const EXT4 = `${'\0'.repeat(1080)}\x53\xef${'\0'.repeat(0x60 - 0x3a)}\x40`;
export const SQUASHFS = 'hsqs';
export const ISO = `${'\0'.repeat(0x8001)}CD001`;

/**
 * A machine with a live CD (/dev/sr0 holding /live/filesystem.squashfs) and
 * an ext4 disk (/dev/vda); `files` adds to what it holds.
 */
export function liveMachine(cmdline: string, options: { readonly available?: number; readonly files?: Record<string, MemoryNode | string> } = {}): FakeSystem {
  const sys = fakeSystem({
    '/proc/cmdline': cmdline,
    '/proc/sys/kernel/printk': '4 4 1 7',
    '/proc/meminfo': `MemTotal: 1000000 kB\nMemAvailable: ${options.available ?? 900_000} kB\n`,
    '/dev/sr0': ISO,
    '/sys/class/block/vda/size': '131072\n',
    '/dev/vda': EXT4,
    '/run/initramfs/live/live/filesystem.squashfs': SQUASHFS.padEnd(1000, 'x'),
    '/newroot/sbin/init': { kind: 'file', mode: 0o755, text: '' },
    ...options.files,
  });
  sys.kmsgAvailable = false;
  return sys;
}
