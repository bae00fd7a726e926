// The shutdown return (systemd's INITRD_INTERFACE, as dracut and mkinitcpio
// use it): when /run/initramfs/shutdown exists, systemd-shutdown pivots back
// into /run/initramfs, keeps the old root on /oldroot, and runs it as PID 1
// with the verb (poweroff, reboot, halt, kexec). A kept layer needs it: only
// once the union is gone can its filesystem be unmounted and end clean. What
// it needs stays in RAM (on /run) from boot to shutdown, so it is kept small:
// the static busybox, and dmsetup with its libraries where device-mapper
// devices must be removed (core/handover-tools.ts).

import type { Context } from '../core/context';
import { copyHandoverTools } from '../core/handover-tools';
import { HANDOVER_DIR, SHUTDOWN_SCRIPT } from '../layout/boot-paths';
import { formatMiB } from '../formats/size';
import type { KeptLayer } from './open';

/** The busybox applets the script runs, linked in HANDOVER_DIR/bin. */
const APPLETS = ['sh', 'sort', 'umount', 'sync', 'sleep', 'losetup', 'poweroff', 'reboot', 'halt'] as const;

// The kernel's sysfs folder of a mounted filesystem, which goes when its superblock is let go.
const SYSFS_OF: Readonly<Record<string, string>> = { ext2: 'ext4', ext3: 'ext4', ext4: 'ext4' };

/** The script; `filesystems`: what must be let go before the machine stops, by device name and type. */
export function shutdownScript(filesystems: KeptLayer['filesystems']): string {
  const watched = filesystems.filter((fs) => SYSFS_OF[fs.type]).map((fs) => `/sys/fs/${SYSFS_OF[fs.type]}/${fs.name}`);
  return `#!/bin/sh
# Written at boot by cowboot, because this boot keeps its changes (persist=).
# systemd-shutdown runs it as PID 1 once it has pivoted into /run/initramfs,
# with the old root on /oldroot: it takes the union apart so that the kept
# layer's filesystem is unmounted clean, then does what "$1" asks. PID 1
# never ends: it stops the machine, or waits.
export PATH=/bin:/sbin
verb=\${1:-poweroff}
say() { echo "cowboot-shutdown: $*" > /dev/console; }
oldmounts() {
  while read -r _ m _; do
    case "$m" in /oldroot|/oldroot/*) echo "$m" ;; esac
  done < /proc/mounts | sort -r
}
unmount_old() {
  for round in 1 2 3; do
    for m in $(oldmounts); do umount "$m" 2>/dev/null; done
    [ -z "$(oldmounts)" ] && return
  done
}
# Where the kept layer's filesystems are still mounted outside /oldroot:
# systemd 257 brings /run/initramfs's mounts along into the exitrd.
ours() {
  while read -r d m _; do
    for n in $names; do [ "$d" = "/dev/$n" ] && [ "$m" != / ] && echo "$m"; done
  done < /proc/mounts | sort -r
}
unmount_ours() {
  for m in $(ours); do umount "$m" 2>/dev/null; done
}
# A filesystem's folder in sysfs goes when its last mount does, a loop
# device's when its detach is done (the kernel does it after losetup
# returns); 10 s at most.
let_go() {
  n=0
  while [ -e "$1" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
}
watched="${watched.join(' ')}"
names="${filesystems.map((fs) => fs.name).join(' ')}"
sync
unmount_old
unmount_ours
busy=$(oldmounts)
if [ -n "$busy" ]; then
  # unionfs's daemon serves the old root from inside it: detached, the union
  # ends when the daemon sees it gone, and the layer's filesystem with it.
  say "detached, as still busy: $(echo $busy)"
  umount -l /oldroot
fi
for f in $watched; do let_go "$f"; done
if [ -x /sbin/dmsetup ]; then
  for round in 1 2 3 4 5; do
    left=$(dmsetup ls 2>/dev/null | while read -r name _; do case "$name" in cowboot-*) echo "$name" ;; esac; done)
    [ -z "$left" ] && break
    # The snapshot goes before its store: what fails now goes next round.
    for name in $left; do dmsetup --noudevsync remove "$name" 2>/dev/null; done
  done
  [ -n "$left" ] && say "device-mapper devices left: $(echo $left)"
fi
for f in /sys/block/loop*/loop/backing_file; do
  [ -e "$f" ] || continue
  d=\${f#/sys/block/}
  losetup -d "/dev/\${d%%/*}" 2>/dev/null
done
for f in /sys/block/loop*/loop/backing_file; do let_go "$f"; done
# The filesystem that holds an image file is let go once its loop device is.
unmount_old
unmount_ours
for f in $watched; do
  let_go "$f"
  if [ -e "$f" ]; then say "\${f##*/} is still mounted: its filesystem will replay its journal at the next mount"; else say "\${f##*/} unmounted clean"; fi
done
sync
case "$verb" in reboot | kexec) act=reboot ;; halt) act=halt ;; *) act=poweroff ;; esac
say "$act"
$act -f
# The kernel stops the machine above; should it not, PID 1 must not end.
case "$act" in reboot) echo b > /proc/sysrq-trigger ;; *) echo o > /proc/sysrq-trigger ;; esac
while :; do sleep 3600; done
`;
}

/** Puts the script and its tools in HANDOVER_DIR (on /run, which the booted system keeps); logs the RAM they take. */
export async function prepareShutdownReturn(ctx: Context, kept: KeptLayer, withDmsetup: boolean): Promise<void> {
  let { bytes } = await copyHandoverTools(ctx, '', withDmsetup);
  for (const applet of APPLETS) ctx.sys.symlink('busybox', `${HANDOVER_DIR}/bin/${applet}`);
  const script = shutdownScript(kept.filesystems);
  ctx.sys.writeText(SHUTDOWN_SCRIPT, script, 0o755);
  bytes += script.length;
  ctx.log.info(`shutdown return: ${SHUTDOWN_SCRIPT} takes the union apart at shutdown (systemd); it keeps ${formatMiB(bytes)} in RAM (busybox${withDmsetup ? ', dmsetup and its libraries' : ''})`);
}
