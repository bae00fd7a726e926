// npm run demo [-- --overlay unionfs|overlayfs|dm|none] [--live] [--check]:
// builds a small read-only root and our initramfs, and boots them in QEMU on
// this terminal, from a disk or (--live) from a CD.

import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { UNION_NAMES } from '../src/config/union-names';
import { type GuestSpec, makeGuestDisk, makeIso, makeSquashfs, sha256File } from './vm/guest';
import { buildImage } from './vm/image';
import { boot, cdrom, qemuArgs, requireQemu } from './vm/qemu';

const BANNER = `
  ================================================================
   cowboot demo
  ----------------------------------------------------------------
   This machine booted from a medium that cowboot keeps READ-ONLY.
   On top of it lies a writable layer in RAM (overlay=@OVERLAY@):
   every change you make goes there, and the medium is never written.

   Look around:
     mount | grep ' / '        the root you are on
     ls /run/initramfs         what cowboot handed over: ro (the root
                               as it is), live (a CD), cow (your changes)
     cat /run/initramfs/init.log   what cowboot did, stage by stage
   Make a change:  echo hello > /hello, and look for it under
                   /run/initramfs/cow (for dm, as blocks in snapshot-cow)

   "poweroff" or "exit" ends the demo, and every change is forgotten.
  ================================================================
`;

// The root's own init: not a real distribution, just enough to show the union.
const DEMO_INIT = `#!/bin/sh
overlay=$(sed -n 's/.*overlay=\\([a-z]*\\).*/\\1/p' /proc/cmdline)
sed "s/@OVERLAY@/\${overlay:-unionfs}/" /etc/demo-banner
echo "  root: $(awk '$2=="/"{t=$1" "$3} END{print t}' /proc/mounts)"
echo
if grep -q 'cowboot.demo=check' /proc/cmdline; then echo DEMO-CHECK-OK; poweroff -f; fi
setsid cttyhack sh -l
echo "Powering off: the changes are gone, the disk is as it was."
poweroff -f
`;

// With a shell script as PID 1 nothing would answer busybox's plain
// poweroff/reboot signals; the -f forms act at once.
const PROFILE = `PS1='demo:\\w# '
poweroff() { sync; command poweroff -f; }
reboot() { sync; command reboot -f; }
`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { overlay: { type: 'string', default: 'unionfs' }, live: { type: 'boolean', default: false }, check: { type: 'boolean', default: false } },
    strict: true,
  });
  const overlay = values.overlay;
  if (!(UNION_NAMES as readonly string[]).includes(overlay)) {
    process.stderr.write(`demo: --overlay ${overlay} is not valid: expected one of ${UNION_NAMES.join(', ')}\n`);
    return 2;
  }
  requireQemu();
  const image = buildImage('demo');
  const root: GuestSpec = { init: DEMO_INIT, files: { '/etc/demo-banner': BANNER, '/etc/profile': PROFILE } };
  // A live CD holds a squashfs; a dm snapshot needs a writable format, so an ext2 image (as in seed 004).
  const liveImage = overlay === 'dm' ? '/live/rootfs.ext2' : '/live/filesystem.squashfs';
  const medium = values.live
    ? makeIso('demo', 'COWBOOT_DEMO', { [liveImage]: overlay === 'dm' ? makeGuestDisk('demo-live', root, 'ext2') : makeSquashfs('demo-live', root) })
    : makeGuestDisk('demo', root);
  const before = sha256File(medium);
  const append = values.live
    ? `console=ttyS0 root=LABEL=COWBOOT_DEMO loop=${liveImage} overlay=${overlay}`
    : `console=ttyS0 root=LABEL=demo overlay=${overlay}`;
  const devices = values.live ? { devices: cdrom(medium) } : { drives: [`file=${medium},if=virtio,format=raw`] };
  if (values.check) {
    const result = await boot({ name: 'demo-check', initrd: image, ...devices, append: `${append} quiet cowboot.demo=check` });
    const ok = result.console.includes('cowboot demo') && result.console.includes('DEMO-CHECK-OK') && sha256File(medium) === before;
    process.stdout.write(ok ? 'demo check: banner shown, medium unchanged\n' : `demo check failed, see ${result.logFile}\n`);
    return ok ? 0 : 1;
  }
  process.stdout.write(`\nBooting the demo in QEMU (software emulation: about 15 s).\nTo leave QEMU at any time: press Ctrl-A, then X.\n\n`);
  const qemu = spawnSync('qemu-system-x86_64', qemuArgs({ name: 'demo', initrd: image, ...devices, append }), { stdio: 'inherit' });
  const unchanged = sha256File(medium) === before;
  process.stdout.write(`\nThe demo's ${values.live ? 'CD image' : 'disk'} is ${unchanged ? 'unchanged, as promised' : 'CHANGED: this is a bug'}.\n`);
  return qemu.status === 0 && unchanged ? 0 : 1;
}

process.exitCode = await main();
