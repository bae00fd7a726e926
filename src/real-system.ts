// The System interface on a real machine: thin wrappers over node:fs and
// node:child_process, nothing to decide here.

import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { dirname } from 'node:path';
import { TOOL_DIRS } from './image-layout';
import { orphanZombies, type ProcStat, parseProcStat } from './reaper';
import { mountCall, setroDevice } from './syscall-argv';
import type { PathInfo, RunResult, System } from './system';

const CHILD_ENV = { PATH: TOOL_DIRS.join(':'), HOME: '/', TERM: 'linux' };

function kindOf(stat: fs.Stats): PathInfo['kind'] {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
}

interface Libc {
  waitpid(pid: number, status: bigint, options: number): number;
  mount(source: string, target: string, type: string | null, flags: bigint, data: string | null): number;
  ioctl(fd: number, request: bigint, argp: Int32Array): number;
}
const WNOHANG = 1;
const BLKROSET = 0x125dn;

// node:ffi is experimental in Node 26 and absent under Bun: without it,
// orphans wait for the new init to collect them and every command spawns.
function loadLibc(): Libc | null {
  try {
    const ffi = process.getBuiltinModule('node:ffi') as { dlopen(path: null, defs: object): { functions: Libc } } | undefined;
    return (
      ffi?.dlopen(null, {
        waitpid: { arguments: ['i32', 'pointer', 'i32'], return: 'i32' },
        mount: { arguments: ['string', 'string', 'string', 'u64', 'string'], return: 'i32' },
        ioctl: { arguments: ['i32', 'u64', 'buffer'], return: 'i32' },
      }).functions ?? null
    );
  } catch {
    return null;
  }
}

/** The command as one system call, where it is one of ours; false when it must be run. */
function asSyscall(libc: Libc | null, argv: readonly string[]): boolean {
  if (!libc) return false;
  const mount = mountCall(argv);
  if (mount) return libc.mount(mount.source, mount.target, mount.type, BigInt(mount.flags), mount.data) === 0;
  const device = setroDevice(argv);
  if (device) {
    let fd: number;
    try {
      fd = fs.openSync(device, fs.constants.O_RDONLY);
    } catch {
      return false;
    }
    try {
      return libc.ioctl(fd, BLKROSET, Int32Array.of(1)) === 0;
    } finally {
      fs.closeSync(fd);
    }
  }
  return false;
}

function procStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = parseProcStat(fs.readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (stat) stats.push(stat);
    } catch {
      // Gone while we looked.
    }
  }
  return stats;
}

// Counts changes anywhere under /dev (devtmpfs makes a node for every new
// disk, partition, SCSI or USB device); waiters wake on the next one.
function deviceWatch() {
  let events = 0;
  let watcher: fs.FSWatcher | null = null;
  const waiters = new Set<() => void>();
  const start = () => {
    if (watcher) return;
    try {
      watcher = fs.watch('/dev', { recursive: true }, () => {
        events++;
        for (const wake of [...waiters]) wake();
      });
    } catch {
      // No /dev yet: the waiters' timeouts still end the wait.
    }
  };
  return {
    count: () => {
      start();
      return events;
    },
    wait(seen: number, timeoutMs: number): Promise<void> {
      start();
      if (events > seen) return Promise.resolve();
      return new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(timeoutMs, 2 ** 31 - 1));
        waiters.add(done);
      });
    },
  };
}

export function realSystem(): System {
  let kmsg: number | null = null;
  const devices = deviceWatch();
  const children = new Set<number>();
  const libc = loadLibc();
  return {
    run(argv, options = {}) {
      // On failure the command runs after all: its error message is the one users know.
      if (!options.argv0 && asSyscall(libc, argv)) return Promise.resolve({ status: 0, signal: null, stdout: '', stderr: '' });
      return new Promise<RunResult>((resolve) => {
        const [file, ...args] = argv;
        const child = spawn(file!, args, { env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'], ...(options.argv0 ? { argv0: options.argv0 } : {}) });
        if (child.pid !== undefined) children.add(child.pid);
        child.on('exit', () => child.pid !== undefined && children.delete(child.pid));
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', (error) => resolve({ status: null, signal: null, stdout, stderr: error.message }));
        child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
      });
    },
    readText: (path) => fs.readFileSync(path, 'utf8'),
    readHead(path, length) {
      const fd = fs.openSync(path, 'r');
      try {
        const buffer = Buffer.alloc(length);
        const read = fs.readSync(fd, buffer, 0, length, 0);
        return buffer.subarray(0, read);
      } finally {
        fs.closeSync(fd);
      }
    },
    writeText: (path, text) => fs.writeFileSync(path, text),
    createSparseFile(path, bytes) {
      fs.closeSync(fs.openSync(path, 'a'));
      fs.truncateSync(path, bytes);
    },
    copyFile: (from, to) => fs.promises.copyFile(from, to),
    mkdirp: (path) => void fs.mkdirSync(path, { recursive: true }),
    lstat(path) {
      try {
        const stat = fs.lstatSync(path);
        return { kind: kindOf(stat), mode: stat.mode & 0o7777, size: stat.size };
      } catch {
        return null;
      }
    },
    readlink: (path) => fs.readlinkSync(path),
    symlink(target, path) {
      fs.rmSync(path, { force: true });
      fs.symlinkSync(target, path);
    },
    deviceEvents: () => devices.count(),
    waitForDeviceEvent: (seen, timeoutMs) => devices.wait(seen, timeoutMs),
    readdir(path) {
      try {
        return fs.readdirSync(path).sort();
      } catch {
        return [];
      }
    },
    waitForPath(path, timeoutMs) {
      // Woken by inotify on the parent folder; the slow poll is only a safety
      // net for a parent that does not exist yet.
      return new Promise((resolve) => {
        if (fs.existsSync(path)) return resolve(true);
        let watcher: fs.FSWatcher | null = null;
        const finish = (found: boolean) => {
          clearInterval(poll);
          clearTimeout(timer);
          watcher?.close();
          resolve(found);
        };
        const check = () => fs.existsSync(path) && finish(true);
        const poll = setInterval(check, 500);
        const timer = setTimeout(() => finish(fs.existsSync(path)), timeoutMs);
        try {
          watcher = fs.watch(dirname(path), check);
        } catch {
          // The parent is missing: the poll covers it.
        }
        check();
      });
    },
    now: () => performance.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    // Synchronous writes: nothing may be left in a buffer when execve replaces us.
    writeConsole(text) {
      try {
        fs.writeSync(1, text);
      } catch {
        // No console: the log still has it.
      }
    },
    writeKmsg(record) {
      try {
        // Never O_CREAT: before devtmpfs that would make a plain file in the rootfs.
        kmsg ??= fs.openSync('/dev/kmsg', fs.constants.O_WRONLY);
      } catch {
        return false;
      }
      try {
        fs.writeSync(kmsg, record);
      } catch {
        // A record the kernel refuses is dropped; the log still has it.
      }
      return true;
    },
    execve(file, argv, env) {
      if (!process.execve) throw new Error(`Node ${process.version} has no process.execve (Node 26 or later is needed)`);
      process.execve(file, [...argv], { ...env });
      throw new Error(`execve ${file} returned`);
    },
    interactiveShell(argv) {
      return new Promise((resolve, reject) => {
        const [file, ...args] = argv;
        const child = spawn(file!, args, { env: CHILD_ENV, stdio: 'inherit' });
        if (child.pid !== undefined) children.add(child.pid);
        child.on('error', reject);
        child.on('exit', () => {
          if (child.pid !== undefined) children.delete(child.pid);
          resolve();
        });
      });
    },
    async readSecret(prompt) {
      const stty = (mode: string) => spawnSync('stty', [mode], { env: CHILD_ENV, stdio: 'inherit' });
      fs.writeSync(1, prompt);
      stty('-echo');
      try {
        // Blocking reads are right here: nothing else may happen until the answer is in.
        const bytes: number[] = [];
        const one = Buffer.alloc(1);
        while (fs.readSync(0, one, 0, 1, null) === 1 && one[0] !== 0x0a && one[0] !== 0x0d) bytes.push(one[0]!);
        return Buffer.from(bytes).toString('utf8');
      } catch {
        return null;
      } finally {
        stty('echo');
        fs.writeSync(1, '\n');
      }
    },
    reapOrphans() {
      if (!libc) return [];
      return orphanZombies(procStats(), children).filter((pid) => libc.waitpid(pid, 0n, WNOHANG) === pid);
    },
  };
}
