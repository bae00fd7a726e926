// What every tool boots in the benchmark: one busybox root whose init
// reports when it started, from when the kernel ran /init, and the RAM
// left, then powers off. As a disk (ext4, for the seed scripts' modes), as
// a live CD that holds the same squashfs where each tool looks for it, and
// as that squashfs served over the network (network.ts).

import { eventsIn } from '../../src/core/events';
import { makeGuestDisk, makeIso, makeSquashfs } from '../vm/guest';
import { boot, type BootOptions } from '../vm/qemu';

// The kernel's "Run /init" time comes from the ring buffer, so the console can stay quiet.
const ROOT_INIT = `#!/bin/sh
up=$(cut -d' ' -f1 /proc/uptime)
echo "BENCH init=$up run=$(dmesg | sed -n 's/^\\[ *\\([0-9.]*\\)\\] Run \\/init as init process.*/\\1/p') mem=$(awk '/MemAvailable/{print $2}' /proc/meminfo)"
[ -f /run/initramfs/init.log ] && grep -o 'stage [a-z-]*: done in [0-9]* ms' /run/initramfs/init.log
poweroff -f
`;

export const CD_LABEL = 'BENCHCD';
// systemd's initrd switches only into an OS tree, which it tells by this file.
const OS_RELEASE = 'NAME=bench\nID=bench\n';

export function benchDisk(): string {
  return makeGuestDisk('bench-root', { init: ROOT_INIT, files: { '/etc/os-release': OS_RELEASE } });
}

/** The live root as a squashfs: on the CD, and served over the network. */
export function benchSquashfs(): string {
  return makeSquashfs('bench-live', { init: ROOT_INIT, files: { '/etc/hostname': 'bench\n', '/etc/os-release': OS_RELEASE } });
}

/** The CD: the squashfs at /live/filesystem.squashfs (cowboot, live-boot) and /LiveOS/squashfs.img (dracut). */
export function benchCd(squashfs: string): string {
  return makeIso('bench-live', CD_LABEL, { '/live/filesystem.squashfs': squashfs, '/LiveOS/squashfs.img': squashfs });
}


/** One boot up to the root's init, as ROOT_INIT reports it. */
export interface Sample {
  /** Guest seconds from the kernel's start to the root's init. */
  readonly total: number;
  /** Guest seconds from the kernel's start to "Run /init". */
  readonly toInit: number;
  readonly handoff: number;
  readonly memKiB: number;
  readonly stages: Record<string, number>;
  /** Host seconds from QEMU's start to the root's init (plain TCG boots only). */
  readonly wall: number | null;
}

/** Boots `initrd` quietly to the benchmark root's init; null if it never got there. */
export async function bootToRootInit(options: Omit<BootOptions, 'marks'>): Promise<Sample | null> {
  const result = await boot({ ...options, append: `console=ttyS0 quiet panic=-1 ${options.append}`, marks: [/BENCH init=/] });
  const match = /BENCH init=([\d.]+) run=([\d.]+) mem=(\d+)/.exec(result.console);
  if (!match) return null;
  const stages: Record<string, number> = {};
  for (const event of eventsIn(result.console, 'stage-done')) stages[event.stage] = event.ms;
  const total = Number(match[1]);
  const toInit = Number(match[2]);
  return { total, toInit, handoff: total - toInit, memKiB: Number(match[3]), stages, wall: options.icount ? null : (result.marks[0] ?? 0) / 1000 };
}
