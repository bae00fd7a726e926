// Boots the test kernel with our initramfs in QEMU under TCG (no KVM on
// these machines) and collects the serial console.

import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { testKernel } from './kernel';
import { VM_CACHE } from './project';

const QEMU = 'qemu-system-x86_64';

export interface BootOptions {
  /** Names the console log kept in .cache/vm/logs. */
  readonly name: string;
  /** Boot through the firmware and a boot loader on a disk or CD, instead of -kernel and -initrd. */
  readonly firmwareBoot?: boolean;
  readonly initrd?: string;
  /** The kernel to boot; Debian's test kernel where not given. */
  readonly kernel?: string;
  readonly append: string;
  readonly drives?: readonly string[];
  /** More QEMU arguments, such as a CD-ROM on virtio-scsi (see cdrom()). */
  readonly devices?: readonly string[];
  readonly timeoutMs?: number;
  readonly memoryMiB?: number;
  /**
   * Typed on the serial console (or done, for a function), each once its
   * prompt has appeared after the previous one. A function is given QMP,
   * and a way to type later (for a test that answers once something else
   * has happened).
   */
  readonly dialogue?: readonly { readonly waitFor: RegExp; readonly send: string | ((qmp: Qmp, type: (text: string) => void) => void) }[];
  /**
   * Instruction counting: guest time advances one nanosecond per instruction,
   * so host load cannot move it (one vCPU: with two, icount hangs bringing up
   * the second).
   */
  readonly icount?: boolean;
  /** QEMU's arguments for the machine's NIC; none unless given (QEMU would add an e1000 on its user network). */
  readonly network?: readonly string[];
  /** Console lines to time: the result says when each first appeared, in ms from QEMU's start. */
  readonly marks?: readonly RegExp[];
}

export interface BootResult {
  readonly console: string;
  /** For each of BootOptions.marks, ms from QEMU's start to its first appearance, or null. */
  readonly marks: readonly (number | null)[];
  readonly timedOut: boolean;
  readonly logFile: string;
}

export function requireQemu(): void {
  if (spawnSync(QEMU, ['--version']).error) {
    throw new Error(`${QEMU} not found: install it with "apt-get install qemu-system-x86" (npm test does so when run as root)`);
  }
}

/** QEMU's machine protocol, for what a person would do at the machine: plug in a disk. */
interface Qmp {
  command(execute: string, args?: Record<string, unknown>): void;
}

// Commands wait for QEMU's greeting; the exchange, errors included, goes into
// the console log, so a test that plugs in a disk shows whether it was plugged.
function qmpClient(socket: string, note: (line: string) => void): Qmp {
  const queue: string[] = [JSON.stringify({ execute: 'qmp_capabilities' })];
  let connection: ReturnType<typeof createConnection> | null = null;
  let greeted = false;
  let attempts = 0;
  const flush = () => {
    if (!greeted || !connection) return;
    for (const line of queue.splice(0)) {
      note(`[qmp] -> ${line}`);
      connection.write(`${line}\n`);
    }
  };
  const connect = () => {
    connection = createConnection(socket);
    connection.on('data', (data: Buffer) => {
      for (const line of data.toString().split('\n').filter(Boolean)) {
        note(`[qmp] <- ${line}`);
        if (line.includes('"QMP"')) greeted = true;
      }
      flush();
    });
    connection.on('error', (error) => {
      note(`[qmp] ${error.message}`);
      connection = null;
      if (++attempts < 20) setTimeout(connect, 250);
    });
  };
  return {
    command(execute, args) {
      queue.push(JSON.stringify(args ? { execute, arguments: args } : { execute }));
      if (!connection) connect();
      else flush();
    },
  };
}

export function qemuArgs(options: BootOptions): string[] {
  const kernel = testKernel();
  return [
    '-accel', 'tcg', '-cpu', 'max', '-m', String(options.memoryMiB ?? 1024),
    ...(options.icount ? ['-smp', '1', '-icount', 'shift=0,sleep=off'] : ['-smp', '2']),
    '-nographic', '-no-reboot',
    ...(options.firmwareBoot ? [] : ['-kernel', options.kernel ?? kernel.vmlinuz, '-initrd', options.initrd ?? '', '-append', options.append]),
    ...(options.drives ?? []).flatMap((d) => ['-drive', d]),
    ...(options.devices ?? []),
    ...(options.network ?? ['-nic', 'none']),
  ];
}

/** An ISO as a CD-ROM on a virtio-scsi controller: /dev/sr0 in the guest. */
export function cdrom(iso: string): string[] {
  return ['-device', 'virtio-scsi-pci,id=scsi0', '-drive', `file=${iso},if=none,id=cd0,media=cdrom,format=raw`, '-device', 'scsi-cd,drive=cd0,bus=scsi0.0'];
}

const OVMF_DIR = '/usr/share/OVMF';

/**
 * UEFI firmware (Debian's ovmf): its code, read-only, and a fresh copy of its
 * variable store for this boot, kept beside the console logs, so that no
 * boot sees what another wrote to NVRAM; as -drive values and the QEMU
 * options the firmware needs. With Secure Boot: the build whose variables
 * hold Microsoft's keys (which signed Debian's shim), with Secure Boot on;
 * it needs SMM, so the q35 machine.
 */
export function uefiFirmware(name: string, secureBoot = false): { drives: string[]; options: string[] } {
  const [codeFile, varsFile] = secureBoot ? ['OVMF_CODE_4M.ms.fd', 'OVMF_VARS_4M.ms.fd'] : ['OVMF_CODE_4M.fd', 'OVMF_VARS_4M.fd'];
  const code = join(OVMF_DIR, codeFile);
  if (!existsSync(code)) throw new Error(`no ${code}: install Debian's UEFI firmware with: apt-get install ovmf`);
  const vars = join(VM_CACHE, 'logs', `${name}.vars.fd`);
  mkdirSync(join(VM_CACHE, 'logs'), { recursive: true });
  copyFileSync(join(OVMF_DIR, varsFile), vars);
  return {
    drives: [`if=pflash,format=raw,unit=0,readonly=on,file=${code}`, `if=pflash,format=raw,unit=1,file=${vars}`],
    options: secureBoot ? ['-machine', 'q35,smm=on', '-global', 'driver=cfi.pflash01,property=secure,value=on'] : [],
  };
}

/**
 * QEMU 7.2's multi-threaded TCG (two vCPUs, each on its own host thread)
 * sometimes runs a stale translation of kernel text that the other vCPU is
 * patching: Linux 6.12's late initcall that marks sched_clock stable flips a
 * static key with text_poke_bp, and the int3 it plants is executed after it
 * is gone, an oops and a panic (3 boots of about 540 in two full runs). The
 * stale translation can sit in an idle vCPU and be run seconds later, after
 * /init has started (CI, stop 27: sched_clock_idle_wakeup_event on CPU 1 in
 * the rescue tests), so when it strikes says nothing; where does: nothing
 * but that static key's sites, the sched_clock functions, is patched then,
 * and cowboot patches no kernel text. Other static keys strike the same way
 * (a full run here, stop 29: enqueue_timer, during the initcalls); there the oops's Code
 * line tells: the byte before the faulting one is not int3 (cc), so the
 * int3 that ran is no longer in memory, which only a stale translation
 * runs. One vCPU avoids it but costs 20% of a Debian boot's time (77.7 s
 * against 64.5 s, measured), so such a boot is booted once more instead,
 * and says so.
 */
export function tcgTextPokeFault(console: string): boolean {
  if (/Oops: int3: [^\n]*\n(?:[^\n]*\n){0,3}?[^\n]*RIP: 0010:sched_clock_\w+\+/.test(console)) return true;
  const code = /Oops: int3: [^\n]*\n(?:[^\n]*\n){0,4}?[^\n]*Code: (?:[0-9a-f]{2} )*([0-9a-f]{2}) <[0-9a-f]{2}>/.exec(console);
  return code !== null && code[1] !== 'cc';
}

/** Boots until the guest powers off (or the timeout kills it). */
export async function boot(options: BootOptions): Promise<BootResult> {
  const result = await bootOnce(options);
  if (!tcgTextPokeFault(result.console)) return result;
  console.log(`  ${options.name}: QEMU's TCG ran a stale int3 in kernel text it had patched, booting again; the first console is in ${result.logFile}.tcg-fault`);
  copyFileSync(result.logFile, `${result.logFile}.tcg-fault`);
  return bootOnce(options);
}

function bootOnce(options: BootOptions): Promise<BootResult> {
  requireQemu();
  const logDir = join(VM_CACHE, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, `${options.name}.log`);
  return new Promise((resolve, reject) => {
    const socket = join(logDir, `${options.name}.qmp`);
    rmSync(socket, { force: true });
    let output = '';
    const qmp = qmpClient(socket, (line) => (output += `\n${line}\n`));
    const child = spawn(QEMU, [...qemuArgs(options), '-qmp', `unix:${socket},server=on,wait=off`], { stdio: ['pipe', 'pipe', 'pipe'] });
    let timedOut = false;
    const dialogue = [...(options.dialogue ?? [])];
    let searchFrom = 0;
    const converse = () => {
      const next = dialogue[0];
      if (!next) return;
      const match = next.waitFor.exec(output.slice(searchFrom));
      if (!match) return;
      searchFrom += match.index + match[0].length;
      dialogue.shift();
      if (typeof next.send === 'string') child.stdin.write(next.send);
      else next.send(qmp, (text) => child.stdin.write(text));
      converse();
    };
    const started = performance.now();
    const marks = (options.marks ?? []).map(() => null as number | null);
    let panicked = false;
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('latin1');
      // A panicked kernel never powers off (it would wait for the timeout): end QEMU once the panic's last line is out.
      if (!panicked && /---\[ end Kernel panic/.test(output)) {
        panicked = true;
        setTimeout(() => child.kill('SIGKILL'), 1000);
      }
      options.marks?.forEach((mark, i) => {
        if (marks[i] === null && mark.test(output)) marks[i] = performance.now() - started;
      });
      converse();
    });
    child.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 180_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      writeFileSync(logFile, output);
      resolve({ console: output, marks, timedOut, logFile });
    });
  });
}

/** Seconds from the kernel's "Run /init" line to the guest init's first report of /proc/uptime. */
export function handoffSeconds(console: string, guestUptimeMarker: RegExp): number | null {
  const run = /\[\s*(\d+\.\d+)\] Run \/init as init process/.exec(console);
  const guest = guestUptimeMarker.exec(console);
  if (!run?.[1] || !guest?.[1]) return null;
  return Number(guest[1]) - Number(run[1]);
}
