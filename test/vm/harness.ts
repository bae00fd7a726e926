// One way to boot in the VM tests: a named medium, a command line, the
// medium's checksum before and after, no kernel panic, and the guest's
// report ("GUEST key=value" lines) to read.

import * as assert from 'uvu/assert';
import { sha256File } from '../../scripts/vm/guest';
import { boot, type BootOptions, type BootResult, cdrom, handoffSeconds } from '../../scripts/vm/qemu';

/**
 * Where the medium is: virtio disks (vda, vdb…), a CD on virtio-scsi
 * (sr0), a disk on AHCI (sda), a USB stick on an xHCI controller (sda, and
 * the firmware's first boot device), or an NVMe disk (nvme0n1); or QEMU
 * devices as given, with the files to check named.
 */
type Medium =
  | { readonly disks: readonly string[] }
  | { readonly cd: string }
  | { readonly ahci: string }
  | { readonly usb: string }
  | { readonly nvme: string }
  | { readonly devices: readonly string[]; readonly drives?: readonly string[]; readonly files: readonly string[] };

function attach(medium: Medium): { drives: string[]; devices: string[]; files: string[] } {
  if ('disks' in medium) return { drives: medium.disks.map((d) => `file=${d},if=virtio,format=raw`), devices: [], files: [...medium.disks] };
  if ('cd' in medium) return { drives: [], devices: cdrom(medium.cd), files: [medium.cd] };
  if ('ahci' in medium) {
    return { drives: [], devices: ['-device', 'ahci,id=ahci0', '-drive', `if=none,id=ad,file=${medium.ahci},format=raw`, '-device', 'ide-hd,drive=ad,bus=ahci0.0'], files: [medium.ahci] };
  }
  if ('usb' in medium) {
    return {
      drives: [],
      devices: ['-device', 'qemu-xhci,id=xhci', '-drive', `if=none,id=stick,file=${medium.usb},format=raw`, '-device', 'usb-storage,bus=xhci.0,drive=stick,bootindex=0'],
      files: [medium.usb],
    };
  }
  if ('nvme' in medium) return { drives: [], devices: ['-drive', `if=none,id=nv,file=${medium.nvme},format=raw`, '-device', 'nvme,serial=cowboot0,drive=nv'], files: [medium.nvme] };
  return { drives: [...(medium.drives ?? [])], devices: [...medium.devices], files: [...medium.files] };
}

export interface MediumBoot extends Omit<BootOptions, 'initrd' | 'drives' | 'devices'> {
  /** The initramfs; none where the firmware boots a boot loader from the medium. */
  readonly image?: string;
  readonly medium: Medium;
  /** Media the boot is asked to write (rw, mounts=fstab): they must change; every other must not. */
  readonly writes?: readonly string[];
  /** The guest's init reports "GUEST done" (not so for boots that stop in the rescue shell). */
  readonly finishes?: boolean;
}

export interface Booted {
  readonly result: BootResult;
  readonly console: string;
  /** The values of the guest's "GUEST key=value" lines, in order. */
  report(key: string): string[];
  /** Seconds from the kernel's "Run /init" to the root's init, where the guest reported its uptime. */
  readonly handoff: number | null;
}

// A kernel message as the console prints it: its timestamp, its text, its
// newline; and a terminal's escape sequence (the kernel's own at its start,
// systemd's queries), which taking the messages out can leave before a line.
const KERNEL_MESSAGE = /\[\s*\d+\.\d+\] [^\n]*\n/g;
const ESCAPE = /\x1b(?:\[[0-9;?!]*[A-Za-z]|[A-Za-z])/g;

/**
 * The values of the guest's "GUEST key=value" lines, in order. A line may
 * follow what another program left on the console without a newline (a
 * getty's login prompt, or systemd 257's terminal queries, such as ESC [6n),
 * and the kernel's messages may cut into it ("GUEST fill-statu[   21.93]
 * EXT4-fs …" then "s=1"): they are taken out first, whole.
 */
export function guest(console: string, key: string): string[] {
  return [...console.replace(KERNEL_MESSAGE, '').replace(ESCAPE, '').matchAll(new RegExp(`^(?:.*[^A-Z])?GUEST ${key}=(.*?)\\r?$`, 'gm'))].map((m) => m[1] ?? '');
}

/**
 * The console's lines up to the first match of `where` (or its end), for a
 * failure's message: CI keeps the test output, not the logs.
 */
function consoleNear(console: string, where?: RegExp, count = 25): string {
  const lines = console.split(/\r?\n/);
  const at = where ? lines.findIndex((line) => where.test(line)) : -1;
  const end = at >= 0 ? at + 1 : lines.length;
  return `; the console's last lines:\n${lines.slice(Math.max(0, end - count), end).join('\n')}`;
}

export async function bootMedium(options: MediumBoot): Promise<Booted> {
  const { image, medium, writes = [], finishes = true, ...rest } = options;
  const { drives, devices, files } = attach(medium);
  const before = files.map(sha256File);
  const result = await boot({ ...rest, ...(image ? { initrd: image } : {}), drives, devices, append: rest.firmwareBoot ? rest.append : `console=ttyS0 ${rest.append}` });
  assert.not.match(result.console, /Kernel panic/, `kernel panic, see ${result.logFile}${consoleNear(result.console, /Kernel panic/)}`);
  if (finishes) assert.ok(result.console.includes('GUEST done'), `the root's init did not finish${result.timedOut ? ' (timed out)' : ''}, see ${result.logFile}${consoleNear(result.console)}`);
  files.forEach((file, i) => {
    if (writes.includes(file)) assert.is.not(sha256File(file), before[i], `${file} was not written, though the boot was asked to`);
    else assert.is(sha256File(file), before[i], `${file} was written, see ${result.logFile}`);
  });
  return { result, console: result.console, report: (key) => guest(result.console, key), handoff: handoffSeconds(result.console, /GUEST uptime=([\d.]+)/) };
}
