// A Linux machine in memory, for plan mode and for the unit tests' fake: a
// file tree, a mount table, and what the kernel (or a daemon) does when one
// of our commands succeeds: losetup attaches a loop device that shows the
// file's bytes, dmsetup makes the node (a verity device shows its data),
// modprobe brd makes /dev/ram0, unionfs leaves its daemon in /proc.

import type { PathInfo } from './system';

export type MemoryNode =
  /** `size`: a sparse file's length, where it is more than its text. */
  | { readonly kind: 'file'; readonly mode: number; readonly text: string; readonly size?: number }
  | { readonly kind: 'dir' }
  | { readonly kind: 'symlink'; readonly target: string };

/** The pid the unionfs daemon gets in /proc. */
const DAEMON_PID = 4242;

interface MemoryMachine {
  readonly files: Map<string, MemoryNode>;
  /** Mount points, in the order they were mounted. */
  readonly mounts: string[];
  /** What the kernel does after `argv` succeeded. */
  react(argv: readonly string[]): void;
  readText(path: string): string;
  readHead(path: string, length: number): Uint8Array;
  writeText(path: string, text: string, mode?: number): void;
  createSparseFile(path: string, bytes: number): void;
  appendBytes(path: string, bytes: Uint8Array): void;
  copyFile(from: string, to: string): void;
  /** A file's text as its bytes (latin1, as initial bytes are kept). */
  bytes(path: string): Uint8Array;
  mkdirp(path: string): void;
  lstat(path: string): PathInfo | null;
  readlink(path: string): string;
  symlink(target: string, path: string): void;
  readdir(path: string): string[];
}

const file = (text: string, mode = 0o644): MemoryNode => ({ kind: 'file', mode, text });
const enoent = (path: string) => Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });

/** `initial`: paths with their text (or bytes, kept as latin1), or nodes. */
export function memoryMachine(initial: Readonly<Record<string, MemoryNode | string | Uint8Array>> = {}): MemoryMachine {
  const files = new Map<string, MemoryNode>();
  for (const [path, node] of Object.entries(initial)) {
    files.set(path, typeof node === 'string' ? file(node) : node instanceof Uint8Array ? file(Buffer.from(node).toString('latin1')) : node);
  }
  const mounts: string[] = [];
  const sizeOf = (node: MemoryNode | undefined) => (node?.kind === 'file' ? Math.max(node.size ?? 0, node.text.length) : 0);

  function attachLoop(backing: string): void {
    const n = [...files.keys()].filter((p) => /^\/sys\/block\/loop\d+\/loop\/backing_file$/.test(p)).length;
    const node = files.get(backing);
    files.set(`/sys/block/loop${n}/loop/backing_file`, file(`${backing}\n`, 0o444));
    files.set(`/sys/class/block/loop${n}/size`, file(`${Math.ceil(sizeOf(node) / 512)}\n`));
    files.set(`/dev/loop${n}`, file(node?.kind === 'file' ? node.text : '', 0o600));
  }

  const machine: MemoryMachine = {
    files,
    mounts,
    react(argv) {
      const [cmd, ...args] = argv;
      const last = args[args.length - 1] ?? '';
      if (cmd === 'mount' && args[0] === '--move') {
        const [, from, to] = args as [string, string, string];
        for (let i = 0; i < mounts.length; i++) {
          const m = mounts[i]!;
          if (m === from || m.startsWith(`${from}/`)) mounts[i] = `${to}${m.slice(from.length)}`;
        }
      } else if (cmd === 'mount') {
        mounts.push(last);
      } else if (cmd === 'unionfs') {
        mounts.push(last);
        files.set(`/proc/${DAEMON_PID}/cmdline`, file(`@unionfs\0${args.join('\0')}\0`));
      } else if (cmd === 'umount') {
        const at = mounts.lastIndexOf(last);
        if (at !== -1) mounts.splice(at, 1);
      } else if (cmd === 'losetup' && args[0] === '-d') {
        const name = last.slice('/dev/'.length);
        for (const path of [`/sys/block/${name}/loop/backing_file`, `/sys/class/block/${name}/size`, last]) files.delete(path);
      } else if (cmd === 'losetup') {
        attachLoop(last);
      } else if (cmd === 'dmsetup' && args.includes('create')) {
        // A verity device reads as its data device (the table's first device); others start empty.
        const table = args[args.indexOf('--table') + 1]?.split(' ') ?? [];
        const data = table[2] === 'verity' ? files.get(table[4] ?? '') : undefined;
        files.set(`/dev/mapper/${args[args.indexOf('--table') - 1]}`, file(data?.kind === 'file' ? data.text : '', 0o600));
      } else if (cmd === 'dmsetup' && args.includes('mknodes')) {
        if (!files.has(`/dev/mapper/${last}`)) files.set(`/dev/mapper/${last}`, file('', 0o600));
      } else if (cmd === 'modprobe' && args[0] === 'brd') {
        const kib = Number(/rd_size=(\d+)/.exec(args.join(' '))?.[1] ?? 0);
        files.set('/dev/ram0', file('', 0o600));
        files.set('/sys/class/block/ram0/size', file(`${kib * 2}\n`));
      }
    },
    readText(path) {
      // Once /proc is mounted (and wherever it moved), its mount table lists what is mounted.
      const table = /^(.*)\/proc\/self\/mounts$/.exec(path);
      if (table && mounts.includes(`${table[1]}/proc`)) return mounts.map((m) => `none ${m} fake rw 0 0\n`).join('');
      const node = files.get(path);
      if (node?.kind !== 'file') throw enoent(path);
      return node.text;
    },
    readHead: (path, length) => Buffer.from(machine.readText(path), 'latin1').subarray(0, length),
    writeText: (path, text, mode) => void files.set(path, file(text, mode)),
    createSparseFile: (path, bytes) => void files.set(path, { kind: 'file', mode: 0o600, text: '', size: bytes }),
    appendBytes(path, bytes) {
      const node = files.get(path);
      files.set(path, file((node?.kind === 'file' ? node.text : '') + Buffer.from(bytes).toString('latin1'), node?.kind === 'file' ? node.mode : 0o644));
    },
    bytes(path) {
      const node = files.get(path);
      if (node?.kind !== 'file') throw enoent(path);
      return Buffer.from(node.text, 'latin1');
    },
    copyFile(from, to) {
      const node = files.get(from);
      if (node?.kind !== 'file') throw enoent(from);
      files.set(to, node);
    },
    mkdirp(path) {
      if (!files.has(path)) files.set(path, { kind: 'dir' });
    },
    lstat(path) {
      const node = files.get(path);
      if (!node) return [...files.keys()].some((p) => p.startsWith(`${path}/`)) ? { kind: 'dir', mode: 0o755, size: 0 } : null;
      return { kind: node.kind, mode: node.kind === 'file' ? node.mode : node.kind === 'dir' ? 0o755 : 0o777, size: sizeOf(node) };
    },
    readlink(path) {
      const node = files.get(path);
      if (node?.kind !== 'symlink') throw new Error(`EINVAL: ${path}`);
      return node.target;
    },
    symlink: (target, path) => void files.set(path, { kind: 'symlink', target }),
    readdir(path) {
      const prefix = `${path}/`;
      return [...new Set([...files.keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]!))].sort();
    },
  };
  return machine;
}
