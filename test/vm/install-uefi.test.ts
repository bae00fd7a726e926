// The install test's UEFI twin, booted as a user's machine boots: a GPT disk
// laid out as Debian's installer does (an EFI system partition on
// /boot/efi, the ext4 root, swap), GRUB put on the ESP by grub-install from
// trixie's grub-efi-amd64 packages, `cowboot install --default`, then a cold
// boot through Debian's OVMF firmware: GRUB's menu, the frozen entry,
// systemd running. No -kernel, no -initrd. The ESP is the user's too: it
// must come up under its RAM snapshot, and no byte of the disk may change.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MountedRoot } from '../../scripts/vm/chroot';
import { makeUefiParts, uefiDisk } from '../../scripts/vm/debian';
import { testKernel } from '../../scripts/vm/kernel';
import { PROJECT_DIR } from '../../scripts/vm/project';
import { uefiFirmware } from '../../scripts/vm/qemu';
import { bootMedium } from './harness';
import { cowbootIn, grubDefaults, ok } from './installing';

const KERNEL = testKernel().version;
const FROZEN_TITLE = `Debian GNU/Linux, with Linux ${KERNEL}, frozen (changes in RAM)`;

/** The console as a person reads it: terminal escapes and carriage returns taken out, blank runs folded. */
function screen(console: string): string {
  return console
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b[()][A-Z0-9]/g, '')
    .replace(/\r/g, '')
    .replace(/\n{3,}/g, '\n\n');
}

test('UEFI with GRUB: grub-install on the ESP, install --default, a cold boot through OVMF into the frozen entry, the ESP under its RAM snapshot, the disk unchanged', async () => {
  const parts = makeUefiParts();
  const root = MountedRoot.open(parts.root, [PROJECT_DIR], { '/boot/efi': parts.esp });
  try {
    // A headless machine's serial console for the kernel, and a short menu timeout.
    grubDefaults(root, { GRUB_TIMEOUT: '3', GRUB_CMDLINE_LINUX: '"console=ttyS0"' });
    // --removable: EFI/BOOT/BOOTX64.EFI, which the firmware boots with no NVRAM entry (a chroot cannot write one).
    // The chroot sees its root as a whole zram device, with no partition table for grub-install to find: the
    // modules that read the real disk's GPT and ext4 are named.
    ok(root.run(['grub-install', '--target=x86_64-efi', '--efi-directory=/boot/efi', '--removable', '--no-nvram', '--modules=part_gpt ext2']), 'grub-install');
    ok(root.run(['update-grub']), 'update-grub');
    const installed = ok(cowbootIn(root)('install', '--default'), 'install --default');
    console.log(installed.stdout);
    assert.match(installed.stdout, 'union kinds in the images: dm, overlayfs, none');
    const status = ok(root.run(['cowboot', 'status']), 'status').stdout;
    console.log(status);
    assert.match(status, `GRUB's default is "${FROZEN_TITLE}" (GRUB_DEFAULT=0): frozen`);
    assert.match(status, `${KERNEL}: current (/boot/initrd.img-${KERNEL}.cowboot); union kinds: dm, overlayfs, none`);
    root.saveTo({ '/': parts.root, '/boot/efi': parts.esp });
  } finally {
    root.close();
  }

  const disk = uefiDisk(parts);
  const booted = await bootMedium({
    name: 'uefi-grub',
    firmwareBoot: true,
    medium: { drives: [...uefiFirmware('uefi-grub'), `file=${disk},if=virtio,format=raw`], devices: [], files: [disk] },
    append: '',
    timeoutMs: 400_000,
  });
  const seen = screen(booted.console);
  const menu = seen.indexOf('GNU GRUB');
  console.log(`what the console showed, from GRUB's menu to the kernel's first lines:\n${seen.slice(menu, seen.indexOf('\n', seen.indexOf('Linux version', menu) + 1))}`);
  assert.ok(menu >= 0, `GRUB's menu on the console, see ${booted.result.logFile}`);
  assert.match(seen.slice(menu), /Debian GNU\/Linux, with Linux [^\n]*frozen/, 'the frozen entry in the menu');
  assert.equal(booted.report('state'), ['running']);
  assert.equal(booted.report('failed').map((f) => f.trim()), ['']);
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.match(booted.report('esp')[0] ?? '', /^\/dev\/mapper\/cowboot-mount-vda1 vfat rw,.*fmask=0077,dmask=0077/, 'the ESP under its RAM snapshot, with its fstab options');
  assert.equal(booted.report('esp-write'), ['ok']);
  assert.equal(booted.report('swaps'), ['0'], 'the swap partition stays off');
  assert.equal(booted.report('root-write'), ['ok']);
  const frozen = booted.report('status');
  console.log(frozen.join('\n'));
  assert.ok(frozen.some((line) => line.startsWith('frozen now (overlay=overlayfs)')), 'status says frozen');
});

test.run();
