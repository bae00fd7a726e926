// Disks of a real installed Debian, for the freeze tests: the root that
// scripts/setup.mjs made with mmdebstrap, with an installer-style fstab and a
// probe that reports at the end of boot and powers off; and a second disk
// with a data filesystem and a swap partition, both in that fstab.

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { makePartitionedDisk } from './guest';
import type { DebianRelease } from './kernel';
import { PROJECT_DIR, VM_CACHE } from './project';

export type DebianInit = 'systemd' | 'sysvinit';
/**
 * The roots scripts/setup.mjs builds: one per init, and (trixie only) a
 * systemd one with a kernel and GRUB for "cowboot install", and one with the
 * tools of the installers' other layouts (LVM, LUKS, RAID, btrfs, xfs).
 */
export type DebianRoot = DebianInit | 'bootable' | 'volumes';

const INIT_OF: Record<DebianRoot, DebianInit> = { systemd: 'systemd', sysvinit: 'sysvinit', bootable: 'systemd', volumes: 'systemd' };
// The bootable root holds two kernels and their images besides the system.
const ROOT_SIZE: Record<DebianRoot, string> = { systemd: '768M', sysvinit: '768M', bootable: '2G', volumes: '768M' };

export const DEBIAN_UUIDS = {
  root: '0d1e2b3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b',
  data: '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d',
  swap: '2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e',
  /** The EFI system partition's volume id, as blkid and fstab show it. */
  esp: 'C0B0-0E5F',
} as const;

// What the Debian installer writes, with a CD drive line as it adds one.
const FSTAB = `# /etc/fstab: static file system information.
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=${DEBIAN_UUIDS.root} /               ext4    errors=remount-ro 0       1
UUID=${DEBIAN_UUIDS.data} /data           ext4    defaults        0       2
UUID=${DEBIAN_UUIDS.swap} none            swap    sw              0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
`;

// What the installer writes on a UEFI machine: the ESP and swap on the root's disk.
const UEFI_FSTAB = `# /etc/fstab: static file system information.
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
UUID=${DEBIAN_UUIDS.root} /               ext4    errors=remount-ro 0       1
# /boot/efi was on /dev/vda1 during installation
UUID=${DEBIAN_UUIDS.esp}  /boot/efi       vfat    umask=0077      0       1
UUID=${DEBIAN_UUIDS.swap} none            swap    sw              0       0
`;

/**
 * Runs when boot has ended (systemd: a Type=simple unit after
 * multi-user.target; sysvinit: an inittab "once" line after rc), prints one
 * "GUEST key=value" line per fact the tests check, then powers off as a user
 * would.
 */
const PROBE = `#!/bin/sh
exec > /dev/console 2>&1
echo "GUEST uptime=$(cut -d' ' -f1 /proc/uptime)"
if [ "$1" = systemd ]; then
  echo "GUEST state=$(timeout 300 systemctl is-system-running --wait)"
  echo "GUEST failed=$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\\n' ' ')"
else
  echo "GUEST runlevel=$(runlevel)"
fi
echo "GUEST rootfs=$(awk '$2=="/"{t=$3} END{print t}' /proc/mounts)"
# A root on the network: whether networkd runs, whether it manages the interface, and its IPv4 addresses.
if [ -e /sys/class/net/eth0 ]; then
  echo "GUEST networkd=$(systemctl is-active systemd-networkd 2>/dev/null)"
  echo "GUEST eth0=$(networkctl list --no-legend --no-pager eth0 2>/dev/null | awk '{print $5}')"
  echo "GUEST addresses=$(hostname -I | tr ' ' '\\n' | grep -v : | xargs)"
fi
awk '$2=="/data"{print "GUEST data=" $3 " " $4}' /proc/mounts
awk '$2=="/home"{print "GUEST home=" $3}' /proc/mounts
[ -f /home/owner ] && echo "GUEST owner=$(cat /home/owner)"
grep -q ' /home ' /proc/mounts && echo frozen > /home/probe-home && [ "$(cat /home/probe-home)" = frozen ] && echo "GUEST home-write=ok"
for d in /sys/block/dm-*; do [ -f $d/dm/name ] && echo "GUEST dm=$(cat $d/dm/name) ro=$(cat $d/ro)"; done
for m in /sys/block/md*; do [ -d $m/md ] && echo "GUEST md=$(cat $m/md/array_state) degraded=$(cat $m/md/degraded)"; done
[ -e /sys/block/vdb ] && echo "GUEST vdb-ro=$(cat /sys/block/vdb/ro)"
awk '$2=="/run"{print "GUEST run=" $4}' /proc/mounts
awk '$2=="/boot/efi"{print "GUEST esp=" $1 " " $3 " " $4}' /proc/mounts
grep -q ' /boot/efi ' /proc/mounts && echo frozen > /boot/efi/probe-esp && [ "$(cat /boot/efi/probe-esp)" = frozen ] && echo "GUEST esp-write=ok"
echo "GUEST swaps=$(tail -n +2 /proc/swaps | wc -l)"
[ -r /sys/kernel/security/lockdown ] && echo "GUEST lockdown=$(cat /sys/kernel/security/lockdown)"
dmesg | grep -E 'Secure boot (enabled|disabled)|locked down' | sed 's/^\\[[ 0-9.]*\\] /GUEST kernel-says=/'
# One grep for every process (a fork per process costs seconds under TCG); unionfs-fuse's daemon names itself @unionfs.
for c in $(grep -ls '^@unionfs' /proc/[0-9]*/cmdline); do echo "GUEST daemon-oom=$(cat "\${c%/cmdline}/oom_score_adj")"; done
echo frozen > /probe-root && [ "$(cat /probe-root)" = frozen ] && echo "GUEST root-write=ok"
echo frozen > /data/probe-data && [ "$(cat /data/probe-data)" = frozen ] && echo "GUEST data-write=ok"
echo "GUEST data-file=$(cat /data/hello)"
[ -x /usr/local/sbin/cowboot ] && /usr/local/sbin/cowboot status 2>&1 | sed 's/^/GUEST status=/'
# Booted by systemd-boot (its LoaderInfo variable): the Debian entry as the next boot's one-shot, as status sees it, then unset.
if [ -x /usr/local/sbin/cowboot ] && [ -e /sys/firmware/efi/efivars/LoaderInfo-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f ]; then
  entry=$(ls /boot/efi/loader/entries | grep -v cowboot | head -n 1)
  SYSTEMD_RELAX_ESP_CHECKS=1 bootctl set-oneshot "$entry" 2>&1 | sed 's/^/GUEST oneshot-error=/'
  /usr/local/sbin/cowboot status 2>&1 | grep 'the next boot only' | sed 's/^/GUEST oneshot-status=/'
  SYSTEMD_RELAX_ESP_CHECKS=1 bootctl set-oneshot '' 2>&1 | sed 's/^/GUEST oneshot-error=/'
fi
[ -e /etc/initrd-release ] && echo "GUEST initrd-release=present"
[ -e /run/initramfs/fsck-root ] && echo "GUEST fsck-root=present"
case " $(cat /proc/cmdline) " in *" probe.fill "*)
  # Writes more than the COW holds; "timeout" tells a writer that returned from one that hung.
  timeout 120 dd if=/dev/zero of=/fill bs=1M count=400 2>/dev/null
  echo "GUEST fill-status=$?"
  echo "GUEST after-fill=$(cat /etc/hostname) $(timeout 20 sh -c 'echo more > /more-after-fill' 2>&1 && echo written || echo refused)"
esac
case " $(cat /proc/cmdline) " in *" probe.fillto="*)
  # Fills the root's RAM layer past the fill warnings' first step, then waits out the watcher's next check.
  dd if=/dev/zero of=/var/tmp/fill bs=1M count=$(sed -n 's/.*probe\\.fillto=\\([0-9]*\\).*/\\1/p' /proc/cmdline) 2>/dev/null
  sync
  sleep 15
  # journald takes "cowboot:" as the record's identifier, out of the message.
  journalctl -k -t cowboot -p warning -o cat --no-pager | grep '^warning: ' | sed 's/^/GUEST fill-journal=/'
esac
# persist=: what earlier boots left, and this boot's mark for the next.
echo "GUEST marks=$(tr '\\n' ' ' < /var/lib/cowboot-marks 2>/dev/null)"
mark=$(sed -n 's/.*probe\\.mark=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
[ -n "$mark" ] && echo "$mark" >> /var/lib/cowboot-marks
awk '$2=="/run/initramfs/persist"{print "GUEST persist=" $1 " " $3 " " $4}' /proc/mounts
[ -x /run/initramfs/shutdown ] && echo "GUEST shutdown-return=present"
verb=poweroff
case " $(cat /proc/cmdline) " in *" probe.reboot "*) verb=reboot ;; esac
echo "GUEST poweroff-at=$(cut -d' ' -f1 /proc/uptime)"
echo "GUEST done"
if [ "$1" = systemd ]; then systemctl $verb; else $verb; fi
`;

const PROBE_UNIT = `[Unit]
Description=cowboot test probe
After=multi-user.target

[Service]
Type=simple
ExecStart=/usr/local/sbin/cowboot-probe systemd
`;

function debianTarball(release: DebianRelease, root: DebianRoot): string {
  const dir = join(PROJECT_DIR, '.cache', 'debian');
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    // Reported below.
  }
  const found = names.find((n) => n.startsWith(`${release}-${root}-`) && n.endsWith('.tar'));
  if (!found) throw new Error(`no Debian ${release} ${root} root in ${dir}: run "node scripts/setup.mjs" as root (npm test does) to build it with mmdebstrap`);
  return join(dir, found);
}

function write(tree: string, path: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(join(tree, path)), { recursive: true });
  writeFileSync(join(tree, path), text);
  chmodSync(join(tree, path), mode);
}

function addProbe(tree: string, init: DebianInit): void {
  write(tree, '/usr/local/sbin/cowboot-probe', PROBE, 0o755);
  if (init === 'systemd') {
    write(tree, '/etc/systemd/system/cowboot-probe.service', PROBE_UNIT);
    mkdirSync(join(tree, 'etc/systemd/system/multi-user.target.wants'), { recursive: true });
    symlinkSync('../cowboot-probe.service', join(tree, 'etc/systemd/system/multi-user.target.wants/cowboot-probe.service'));
  } else {
    // init runs "wait" lines to the end before the lines after them: this one runs once rc 2 is done.
    execFileSync('sh', ['-c', `printf '%s\\n' 'cp:2345:once:/usr/local/sbin/cowboot-probe sysvinit' >> "$1"`, 'sh', join(tree, 'etc/inittab')]);
  }
}

/**
 * What systemd-update-done leaves after a system's first boot: an installed
 * machine has booted before it is frozen, so its boots do not rebuild the
 * journal catalog and ldconfig's cache (ConditionNeedsUpdate=), as a root
 * fresh from mmdebstrap's would on every boot.
 */
function markUpdated(tree: string): void {
  const usr = statSync(join(tree, 'usr'), { bigint: true });
  for (const dir of ['etc', 'var']) {
    const stamp = join(tree, dir, '.updated');
    writeFileSync(stamp, `# This file was created by systemd-update-done. Its only\n# purpose is to hold a timestamp of the time this directory\n# was updated. See man:systemd-update-done.service(8).\nTIMESTAMP_NSEC=${usr.mtimeNs}\n`);
    utimesSync(stamp, usr.atime, usr.mtime);
  }
}

export interface DebianDisks {
  /** The root filesystem on a whole disk (/dev/vda), found by root=UUID=. */
  readonly root: string;
  /** /dev/vdb: partition 1 is /data (ext4), partition 2 is swap. */
  readonly second: string;
}

/**
 * The cached root as a folder, with `fstab` (and `files`), its hostname and
 * the probe; the caller makes a filesystem of it and removes it.
 */
export function makeRootTree(name: string, flavour: DebianRoot, release: DebianRelease, fstab: string, files: Readonly<Record<string, string>> = {}): string {
  const tree = join(VM_CACHE, `${name}.tree`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  // /dev is devtmpfs at boot; its nodes in the tarball need not be made here.
  execFileSync('tar', ['-xf', debianTarball(release, flavour), '-C', tree, '--exclude=./dev/*']);
  write(tree, '/etc/fstab', fstab);
  for (const [path, text] of Object.entries(files)) write(tree, path, text);
  write(tree, '/etc/hostname', `frozen-${flavour}\n`);
  for (const dir of ['data', 'media/cdrom0', 'boot/efi']) mkdirSync(join(tree, dir), { recursive: true });
  addProbe(tree, INIT_OF[flavour]);
  markUpdated(tree);
  return tree;
}

/** The cached root as an ext4 image (UUID DEBIAN_UUIDS.root), made by makeRootTree. */
export function makeRootImage(name: string, flavour: DebianRoot, release: DebianRelease, fstab: string, files: Readonly<Record<string, string>> = {}): string {
  const tree = makeRootTree(name, flavour, release, fstab, files);
  try {
    const root = join(VM_CACHE, `${name}-root.ext4`);
    rmSync(root, { force: true });
    execFileSync('mke2fs', ['-q', '-t', 'ext4', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-L', 'debian-root', '-U', DEBIAN_UUIDS.root, '-d', tree, root, ROOT_SIZE[flavour]]);
    return root;
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

/** Fresh disks from the cached root of a release (trixie unless told). */
export function makeDebianDisks(flavour: DebianRoot, release: DebianRelease = 'trixie'): DebianDisks {
  const name = `${release}-${flavour}`;
  return { root: makeRootImage(name, flavour, release, FSTAB), second: makeSecondDisk(name) };
}

/** A UEFI machine's disk, as its partitions' images: the ESP (empty vfat), the root (trixie's bootable one) and swap. */
export interface UefiParts {
  readonly esp: string;
  readonly root: string;
  readonly swap: string;
}

export function makeUefiParts(): UefiParts {
  const name = 'trixie-uefi';
  const esp = join(VM_CACHE, `${name}-esp.vfat`);
  formatEsp(esp);
  return { esp, root: makeRootImage(name, 'bootable', 'trixie', UEFI_FSTAB), swap: makeSwap(name) };
}

/** An empty FAT32 ESP of 256 MiB (systemd-boot keeps kernels and initrds there) in `image`, made anew, always with the same volume id. */
export function formatEsp(image: string): void {
  rmSync(image, { force: true });
  execFileSync('mkfs.vfat', ['-C', '-F', '32', '-S', '512', '-s', '1', '-i', DEBIAN_UUIDS.esp.replace('-', ''), '-n', 'EFI', image, String(256 * 1024)], { stdio: 'ignore' });
}

/** The GPT disk the installer lays out: the ESP first, then the root, then swap. */
export function uefiDisk(parts: UefiParts): string {
  return makePartitionedDisk('trixie-uefi', 'gpt', [
    { image: parts.esp, fields: 'type=U, name="EFI system partition"' },
    { image: parts.root, fields: 'type=L' },
    { image: parts.swap, fields: 'type=S' },
  ]);
}

function makeSwap(name: string): string {
  const swap = join(VM_CACHE, `${name}-swap.img`);
  writeFileSync(swap, Buffer.alloc(32 * 1024 * 1024));
  execFileSync('mkswap', ['-q', '-U', DEBIAN_UUIDS.swap, swap]);
  return swap;
}

function makeSecondDisk(name: string): string {
  const dataTree = join(VM_CACHE, `${name}-data.tree`);
  rmSync(dataTree, { recursive: true, force: true });
  mkdirSync(dataTree, { recursive: true });
  writeFileSync(join(dataTree, 'hello'), 'data-partition\n');
  const data = join(VM_CACHE, `${name}-data.ext4`);
  rmSync(data, { force: true });
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-L', 'data', '-U', DEBIAN_UUIDS.data, '-d', dataTree, data, '64M']);
  rmSync(dataTree, { recursive: true, force: true });
  const swap = makeSwap(name);
  const disk = makePartitionedDisk(`${name}-second`, 'dos', [{ image: data, fields: 'type=83' }, { image: swap, fields: 'type=82' }]);
  rmSync(data, { force: true });
  rmSync(swap, { force: true });
  return disk;
}
