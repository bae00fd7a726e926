// The System interface on a real machine: thin wrappers over node:fs and
// node:child_process, nothing to decide here.

import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readHead } from './read-head';
import { httpGet } from './http-get';
import * as fs from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { TOOL_DIRS } from '../layout/image-paths';
import { orphanZombies, type ProcStat, parseProcStat } from './reaper';
import { callMount, loadLibc, WNOHANG } from './libc';
import { commandOf } from './mount-op';
import type { PathInfo, RunOptions, RunResult, System } from './system';

const CHILD_ENV = { PATH: TOOL_DIRS.join(':'), HOME: '/', TERM: 'linux' };

function kindOf(stat: fs.Stats): PathInfo['kind'] {
  if (stat.isFile()) return 'file';
  if (stat.isDirectory()) return 'dir';
  if (stat.isSymbolicLink()) return 'symlink';
  return 'other';
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
  function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise<RunResult>((resolve) => {
      const [file, ...args] = argv;
      const child = spawn(file!, args, { env: CHILD_ENV, stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'], ...(options.argv0 ? { argv0: options.argv0 } : {}) });
      // A program that exits before reading it all (a wrong key) closes the pipe: that error is its exit status's to tell.
      child.stdin?.on('error', () => undefined);
      child.stdin?.end(options.input);
      if (child.pid !== undefined) children.add(child.pid);
      child.on('exit', () => child.pid !== undefined && children.delete(child.pid));
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (error) => resolve({ status: null, signal: null, stdout, stderr: error.message }));
      child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    });
  }
  return {
    run,
    mount(op) {
      // On failure the command runs after all: its error message is the one users know.
      if (libc && callMount(libc, op)) return Promise.resolve({ status: 0, signal: null, stdout: '', stderr: '' });
      return run(commandOf(op));
    },
    readText: (path) => fs.readFileSync(path, 'utf8'),
    readHead,
    writeText(path, text, mode) {
      fs.writeFileSync(path, text);
      if (mode !== undefined) fs.chmodSync(path, mode);
    },
    appendBytes: (path, bytes) => fs.appendFileSync(path, bytes),
    httpGet,
    connectTcp(host, port, timeoutMs) {
      return new Promise((resolve) => {
        const socket = connect({ host, port, family: 4 });
        const done = (result: { address: string } | { error: string }) => {
          clearTimeout(timer);
          socket.destroy();
          resolve(result);
        };
        const timer = setTimeout(() => done({ error: `did not answer within ${Math.round(timeoutMs / 1000)} s` }), timeoutMs);
        socket.once('connect', () => done({ address: socket.remoteAddress ?? host }));
        socket.once('error', (error) => done({ error: error.message }));
      });
    },
    createSparseFile(path, bytes) {
      fs.closeSync(fs.openSync(path, 'a'));
      fs.truncateSync(path, bytes);
    },
    copyFile: (from, to) => fs.promises.copyFile(from, to),
    async sha256(path, progress) {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of fs.createReadStream(path, { highWaterMark: 4 << 20 })) {
        hash.update(chunk as Buffer);
        bytes += (chunk as Buffer).length;
        progress(bytes);
      }
      return hash.digest('hex');
    },
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
      // Echo goes off before the prompt shows: what is typed as soon as it is seen is not echoed either.
      stty('-echo');
      fs.writeSync(1, prompt);
      try {
        // Blocking reads are right here: nothing else may happen until the answer is in.
        const bytes: number[] = [];
        const one = Buffer.alloc(1);
        try {
          while (fs.readSync(0, one, 0, 1, null) === 1 && one[0] !== 0x0a && one[0] !== 0x0d) bytes.push(one[0]!);
          return Uint8Array.from(bytes);
        } finally {
          bytes.fill(0);
          one.fill(0);
        }
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
