// A server the network-boot tests run in the foreground on a loopback port:
// a free port found, the daemon started and waited for until it listens,
// stopped (and started again, for the tests that take it away mid-boot).

import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** The address the guest reaches the host's loopback at, on QEMU's user network. */
export const HOST_FROM_GUEST = '10.0.2.2';

/** QEMU's arguments for a guest NIC on its user network, whose DHCP server answers it and through which it reaches HOST_FROM_GUEST. */
export const USER_NET = ['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0'];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function listening(name: string, port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} did not listen on 127.0.0.1:${port} within ${timeoutMs / 1000} s`);
}

export interface Daemon {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * `argv` run, listening on `port` once started: in the foreground, or, with
 * `pidFile`, a daemon that forks and writes its pid there.
 */
export function loopbackDaemon(name: string, port: number, argv: readonly string[], pidFile?: string): Daemon {
  let child: ChildProcess | null = null;
  return {
    port,
    async start() {
      child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      await listening(name, port);
    },
    async stop() {
      if (pidFile) return stopDaemon(name, pidFile);
      const running = child;
      child = null;
      if (!running || running.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        running.on('exit', () => resolve());
        running.kill('SIGTERM');
      });
    },
  };
}

async function stopDaemon(name: string, pidFile: string): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  rmSync(pidFile, { force: true });
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let waited = 0; waited < 5000; waited += 50) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} (pid ${pid}) did not stop within 5 s of SIGTERM`);
}
