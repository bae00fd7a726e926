// Small root filesystems for the VMs: Debian's static busybox and an
// /sbin/init script that reports what it sees on the serial console.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VM_CACHE } from './project';

const BUSYBOX = '/usr/bin/busybox';

export interface GuestSpec {
  /** The /sbin/init script (a busybox sh script). */
  readonly init: string;
  /** More files for the root, by absolute path. */
  readonly files?: Readonly<Record<string, string>>;
  readonly sizeMiB?: number;
}

function populate(dir: string, spec: GuestSpec): void {
  rmSync(dir, { recursive: true, force: true });
  for (const sub of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'run', 'tmp', 'etc', 'root']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'bin', 'busybox'), readFileSync(BUSYBOX));
  chmodSync(join(dir, 'bin', 'busybox'), 0o755);
  for (const applet of execFileSync(BUSYBOX, ['--list-full'], { encoding: 'utf8' }).split('\n')) {
    if (!applet || applet === 'bin/busybox' || applet === 'sbin/init') continue;
    mkdirSync(dirname(join(dir, applet)), { recursive: true });
    symlinkSync('/bin/busybox', join(dir, applet));
  }
  writeFileSync(join(dir, 'sbin', 'init'), spec.init);
  chmodSync(join(dir, 'sbin', 'init'), 0o755);
  for (const [path, text] of Object.entries(spec.files ?? {})) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
}

/** An ext4 disk image made with mke2fs -d; returns its path. */
export function makeGuestDisk(name: string, spec: GuestSpec): string {
  const tree = join(VM_CACHE, `${name}.root`);
  const image = join(VM_CACHE, `${name}.ext4`);
  mkdirSync(VM_CACHE, { recursive: true });
  populate(tree, spec);
  rmSync(image, { force: true });
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-L', name.slice(0, 16), '-d', tree, image, `${spec.sizeMiB ?? 64}M`]);
  rmSync(tree, { recursive: true, force: true });
  return image;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * An init for the new root that reports, one "GUEST key=value" line each,
 * what a booted system sees, then powers off. The first line is its uptime,
 * taken before anything else runs.
 */
export const REPORTING_INIT = `#!/bin/sh
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "GUEST pid=$$ args=$*"
echo "GUEST rootfs=$(awk '$2=="/"{t=$3} END{print t}' /proc/mounts)"
if echo written > /guest-was-here 2>/dev/null && [ "$(cat /guest-was-here)" = written ]; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
for m in /dev /dev/pts /proc /sys /run /run/initramfs/ro /run/initramfs/cow; do
  awk -v m="$m" '$2==m{f=1} END{exit !f}' /proc/mounts && echo "GUEST mounted=$m"
done
[ -s /run/initramfs/init.log ] && echo "GUEST initlog=yes"
for f in /run/sendsigs.omit.d/*; do [ -f "$f" ] && echo "GUEST omit=$(cat "$f")"; done
for p in /proc/[0-9]*; do
  case "$(tr '\0' ' ' < $p/cmdline 2>/dev/null)" in @unionfs*) echo "GUEST daemon=\${p#/proc/} $(tr '\0' ' ' < $p/cmdline)";; esac
done
echo "GUEST kmsg-lines=$(dmesg | grep -c 'cowboot: stage')"
echo "GUEST memavailable-kib=$(awk '/MemAvailable/{print $2}' /proc/meminfo)"
echo "GUEST done"
poweroff -f
`;
