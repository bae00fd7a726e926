// The few system calls /init makes itself, through node:ffi: each spared
// process is tens of milliseconds under emulation. node:ffi is experimental
// in Node 26 and absent under Bun; without it, orphans wait for the new init
// to collect them and every mount runs its command.

import * as fs from 'node:fs';
import { type MountOp, mountCall } from './mount-op';

interface Libc {
  waitpid(pid: number, status: bigint, options: number): number;
  mount(source: string, target: string, type: string | null, flags: bigint, data: string | null): number;
  ioctl(fd: number, request: bigint, argp: Int32Array): number;
}

export const WNOHANG = 1;
const BLKROSET = 0x125dn;

export function loadLibc(): Libc | null {
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

/** Makes `op` as one system call; false when it failed (and its command should run, for the message). */
export function callMount(libc: Libc, op: MountOp): boolean {
  if (op.kind !== 'setro') {
    const call = mountCall(op);
    return libc.mount(call.source, call.target, call.type, BigInt(call.flags), call.data) === 0;
  }
  let fd: number;
  try {
    fd = fs.openSync(op.device, fs.constants.O_RDONLY);
  } catch {
    return false;
  }
  try {
    return libc.ioctl(fd, BLKROSET, Int32Array.of(1)) === 0;
  } finally {
    fs.closeSync(fd);
  }
}
