// npm run demo [-- --overlay unionfs] [-- --check]: builds a small read-only
// root and our initramfs, and boots them in QEMU on this terminal.

import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { OVERLAY_KINDS } from '../src/config';
import { makeGuestDisk, sha256File } from './vm/guest';
import { buildImage } from './vm/image';
import { boot, qemuArgs, requireQemu } from './vm/qemu';

const BANNER = `
  ================================================================
   cowboot demo
  ----------------------------------------------------------------
   This machine booted from a disk that cowboot mounted READ-ONLY.
   On top of it lies a writable layer in RAM (overlay=@OVERLAY@):
   every change you make goes there, and the disk is never written.

   Look around:
     mount | grep ' / '        the union that is your root
     ls /run/initramfs/ro      the read-only disk, as it is
     ls /run/initramfs/cow     your changes, in RAM
     cat /run/initramfs/init.log   what cowboot did, stage by stage
   Make a change:  echo hello > /hello; ls /run/initramfs/cow/upper

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
    options: { overlay: { type: 'string', default: 'unionfs' }, check: { type: 'boolean', default: false } },
    strict: true,
  });
  const overlay = values.overlay;
  if (!(OVERLAY_KINDS as readonly string[]).includes(overlay)) {
    process.stderr.write(`demo: --overlay ${overlay} is not valid: expected one of ${OVERLAY_KINDS.join(', ')}\n`);
    return 2;
  }
  requireQemu();
  const image = buildImage('demo');
  const disk = makeGuestDisk('demo', { init: DEMO_INIT, files: { '/etc/demo-banner': BANNER, '/etc/profile': PROFILE } });
  const before = sha256File(disk);
  const append = `console=ttyS0 root=/dev/vda overlay=${overlay}`;
  const drives = [`file=${disk},if=virtio,format=raw`];
  if (values.check) {
    const result = await boot({ name: 'demo-check', initrd: image, drives, append: `${append} quiet cowboot.demo=check` });
    const ok = result.console.includes('cowboot demo') && result.console.includes('DEMO-CHECK-OK') && sha256File(disk) === before;
    process.stdout.write(ok ? 'demo check: banner shown, disk unchanged\n' : `demo check failed, see ${result.logFile}\n`);
    return ok ? 0 : 1;
  }
  process.stdout.write(`\nBooting the demo in QEMU (software emulation: about 15 s).\nTo leave QEMU at any time: press Ctrl-A, then X.\n\n`);
  const qemu = spawnSync('qemu-system-x86_64', qemuArgs({ name: 'demo', initrd: image, drives, append }), { stdio: 'inherit' });
  const unchanged = sha256File(disk) === before;
  process.stdout.write(`\nThe demo disk is ${unchanged ? 'unchanged, as promised' : 'CHANGED: this is a bug'}.\n`);
  return qemu.status === 0 && unchanged ? 0 : 1;
}

process.exitCode = await main();
