// The install test's UEFI twins, booted as a user's machine boots: a GPT
// disk laid out as Debian's installer does (an EFI system partition on
// /boot/efi, the ext4 root, swap), and on it either GRUB behind shim, as
// the installer puts them on the ESP (shim-signed, grub-efi-amd64-signed,
// grub-install), booted with Secure Boot on, or systemd-boot, installed as
// apt would (its postinst runs bootctl install and kernel-install). Then
// `cowboot install --default`, and a cold boot through Debian's OVMF
// firmware: the boot loader's menu, the frozen entry, systemd running. No
// -kernel, no -initrd. The ESP is the user's too: it must come up under its
// RAM snapshot, and no byte of the disk may change.

import { existsSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MountedRoot } from '../../scripts/vm/chroot';
import { DEBIAN_UUIDS, makeUefiParts, uefiDisk } from '../../scripts/vm/debian';
import { testKernel } from '../../scripts/vm/kernel';
import { PROJECT_DIR } from '../../scripts/vm/project';
import { uefiFirmware } from '../../scripts/vm/qemu';
import { type Booted, bootMedium } from './harness';
import { cowbootIn, differences, grubDefaults, NOT_OURS, ok, testDebs } from './installing';

const KERNEL = testKernel().version;
const FROZEN_TITLE = `Debian GNU/Linux, with Linux ${KERNEL}, frozen (changes in RAM)`;

/**
 * The console as a person read it, from the firmware's first boot line to
 * the login prompt: the screen's rows (a cursor move starts one), without
 * escapes, box drawing, the probe's report, or a row already shown (a
 * redrawn menu).
 */
function transcript(console: string): string {
  const rows = console
    .replace(/\x1b\[[\d;:]*H/g, '\n')
    .replace(/\x1b\][^\x07]*\x07/g, '')
    .replace(/\x1b\[[0-9;?=!]*[A-Za-z]/g, '')
    .replace(/\x1b[()c][A-Z0-9]?/g, '')
    .split(/\r?\n|\r/)
    .map((row) => row.trimEnd());
  const start = Math.max(0, rows.findIndex((row) => row.startsWith('BdsDxe:')));
  const login = rows.findIndex((row, i) => i > start && / login:/.test(row));
  const seen = new Set<string>();
  return rows
    .slice(start, login < 0 ? undefined : login + 1)
    .map((row) => row.replace(/GUEST .*/, ''))
    .filter((row) => /[A-Za-z0-9]/.test(row) && !seen.has(row.trim()) && seen.add(row.trim()))
    .join('\n');
}

/** Boots the disk cold through OVMF; prints what the console showed, from the firmware to the login prompt. */
async function coldBoot(name: string, disk: string, menuTitle: string, secureBoot = false): Promise<Booted> {
  const firmware = uefiFirmware(name, secureBoot);
  const booted = await bootMedium({
    name,
    firmwareBoot: true,
    medium: { drives: [...firmware.drives, `file=${disk},if=virtio,format=raw`], devices: firmware.options, files: [disk] },
    append: '',
    timeoutMs: 400_000,
  });
  const shown = transcript(booted.console);
  assert.ok(shown.includes(menuTitle), `"${menuTitle}" on the console, see ${booted.result.logFile}`);
  console.log(`what the console showed, from the firmware to the login prompt:\n${shown}`);
  return booted;
}

/** What a frozen UEFI boot must show: systemd running on the union, the ESP under its RAM snapshot and writable, swap off. */
function assertFrozen(booted: Booted): string[] {
  assert.equal(booted.report('state'), ['running']);
  assert.equal(booted.report('failed').map((f) => f.trim()), ['']);
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.match(booted.report('esp')[0] ?? '', /^\/dev\/mapper\/cowboot-mount-vda1 vfat rw,.*fmask=0077,dmask=0077/, 'the ESP under its RAM snapshot, with its fstab options');
  assert.equal(booted.report('esp-write'), ['ok']);
  assert.equal(booted.report('swaps'), ['0'], 'the swap partition stays off');
  assert.equal(booted.report('root-write'), ['ok']);
  const status = booted.report('status');
  console.log(status.join('\n'));
  assert.ok(status.some((line) => /^frozen now \(overlay=overlayfs, over \/dev\/\w+\)/.test(line)), 'status says frozen');
  return status;
}

/**
 * GRUB on the ESP as Debian's installer puts it there on a UEFI machine:
 * shim-signed and grub-efi-amd64-signed installed, so that grub-install
 * puts Microsoft-signed shim first, as BOOTX64.EFI, and Debian's signed
 * GRUB after it; then `cowboot install --default`, and a cold boot.
 * Without Secure Boot the firmware runs the same files, unverified, so the
 * boot with it on stands for both (a Debian boot is most of a minute of
 * npm test's 60).
 */
async function grubUefi(name: string): Promise<Booted> {
  const parts = makeUefiParts();
  const root = MountedRoot.open(parts.root, [PROJECT_DIR], parts.esp);
  try {
    // A headless machine's serial console, for GRUB's menu and for the kernel, and a short menu timeout.
    grubDefaults(root, { GRUB_TIMEOUT: '3', GRUB_CMDLINE_LINUX: '"console=ttyS0"', GRUB_TERMINAL: '"serial console"', GRUB_SERIAL_COMMAND: '"serial --unit=0 --speed=115200"' });
    ok(root.run(['dpkg', '-i', ...testDebs('secure-boot')]), 'dpkg -i shim-signed grub-efi-amd64-signed');
    // --removable: EFI/BOOT/BOOTX64.EFI, which the firmware boots with no NVRAM entry (a chroot cannot write one).
    ok(root.run(['grub-install', '--target=x86_64-efi', '--efi-directory=/boot/efi', '--removable', '--no-nvram']), 'grub-install');
    ok(root.run(['update-grub']), 'update-grub');
    const installed = ok(cowbootIn(root)('install', '--default'), 'install --default');
    console.log(installed.stdout);
    assert.match(installed.stdout, 'union kinds in the images: dm, overlayfs, none');
    const status = ok(root.run(['cowboot', 'status']), 'status').stdout;
    console.log(status);
    assert.match(status, `GRUB's default is "${FROZEN_TITLE}" (GRUB_DEFAULT=0): frozen`);
    assert.match(status, `${KERNEL}: current (/boot/initrd.img-${KERNEL}.cowboot); union kinds: dm, overlayfs, none`);
    root.saveTo(parts.root);
  } finally {
    root.close();
  }
  const booted = await coldBoot(name, uefiDisk(parts), 'GNU GRUB', true);
  assert.match(transcript(booted.console), /Debian GNU\/Linux, with Linux [^\n]*frozen/, 'the frozen entry in the menu');
  return booted;
}

// Debian's chain verifies the kernel (shim, then GRUB through shim) and not
// the initrd: cowboot's image boots, and the kernel, locked down, loads the
// modules it carries because Debian signed them.
test('UEFI with GRUB behind shim, Secure Boot on (OVMF with Microsoft\'s keys): install --default, a cold boot into the frozen entry; the kernel is locked down and loads the image\'s modules; the ESP under its RAM snapshot, the disk unchanged', async () => {
  const booted = await grubUefi('uefi-secure-boot');
  const says = booted.report('kernel-says').join('\n');
  assert.match(says, /Secure boot enabled/);
  assert.match(says, /Kernel is locked down from EFI Secure Boot/);
  assert.equal(booted.report('lockdown'), ['none [integrity] confidentiality']);
  assertFrozen(booted);
});

// The ESP in the chroot is a tmpfs standing for the FAT image (chroot.ts): bootctl is told not to check its type.
const RELAXED = { SYSTEMD_RELAX_ESP_CHECKS: '1' };
const ESP = (snapshot: Map<string, string>) => new Map([...snapshot].filter(([path]) => path.startsWith('/boot/efi/')));

test('UEFI with systemd-boot: installed as apt would, install --default adds the frozen entry through kernel-install, a cold boot into it; uninstall leaves the ESP as it was', async () => {
  const parts = makeUefiParts();
  const root = MountedRoot.open(parts.root, [PROJECT_DIR], parts.esp);
  let disk = '';
  try {
    // A system moved to systemd-boot: its kernel command line in /etc/kernel/cmdline, GRUB purged, systemd-boot installed.
    ok(root.run(['sh', '-c', `echo "root=UUID=${DEBIAN_UUIDS.root} ro console=ttyS0 quiet" > /etc/kernel/cmdline`]), 'cmdline');
    ok(root.run(['dpkg', '--purge', 'grub-efi-amd64-bin', 'grub-efi-amd64-unsigned', 'grub-pc-bin', 'grub2-common', 'grub-common']), 'purge GRUB');
    const installed = ok(root.run(['dpkg', '-i', ...testDebs('systemd-boot')], RELAXED), 'dpkg -i systemd-boot');
    assert.match(installed.stdout + installed.stderr, 'Copied "/usr/lib/systemd/boot/efi/systemd-bootx64.efi.signed" to "/boot/efi/EFI/BOOT/BOOTX64.EFI"');
    // A menu a person sees, for three seconds (Debian's loader.conf leaves it hidden).
    ok(root.run(['sed', '-i', 's/^#timeout 3/timeout 3/', '/boot/efi/loader/loader.conf']), 'timeout');
    const before = root.snapshot(NOT_OURS);

    const cowboot = cowbootIn(root, RELAXED);
    const done = ok(cowboot('install', '--default'), 'install --default');
    console.log(done.stdout);
    assert.match(done.stdout, `systemd-boot entries: "Debian GNU/Linux 13 (trixie), frozen (changes in RAM)" (debian-${KERNEL}-cowboot.conf), booting: root=UUID=${DEBIAN_UUIDS.root} overlay=overlayfs ro console=ttyS0 quiet`);
    assert.ok(existsSync(root.path(`/boot/efi/debian/${KERNEL}/initrd.img-${KERNEL}.cowboot`)), 'the image beside the kernel on the ESP');
    const status = ok(root.run(['cowboot', 'status'], RELAXED), 'status').stdout;
    console.log(status);
    assert.match(status, `systemd-boot's default is "Debian GNU/Linux 13 (trixie), frozen (changes in RAM)" (/boot/efi/loader/loader.conf: default debian-*): frozen`);
    root.saveTo(parts.root);
    disk = uefiDisk(parts);

    const removed = ok(root.run(['cowboot', 'uninstall'], RELAXED), 'uninstall');
    console.log(removed.stdout);
    const after = root.snapshot(NOT_OURS);
    assert.equal(differences(ESP(before), ESP(after)), [], 'uninstall left the ESP as it was');
    assert.equal(differences(before, after), [], 'and the rest of the system');
  } finally {
    root.close();
  }

  const booted = await coldBoot('uefi-systemd-boot', disk, 'frozen (changes in RAM)');
  const status = assertFrozen(booted);
  assert.ok(status.some((line) => line.startsWith("systemd-boot's default is") && line.endsWith(': frozen')), "status in the frozen system reads systemd-boot's default");
  // bootctl set-oneshot writes an EFI variable, which a frozen boot can: status reads it, as systemd-boot would.
  assert.equal(booted.report('oneshot-error'), []);
  const oneShot = booted.report('oneshot-status')[0] ?? '';
  assert.ok(oneShot.endsWith(`: frozen; the next boot only: "Debian GNU/Linux 13 (trixie)" (LoaderEntryOneShot=debian-${KERNEL}.conf): not frozen`), `status with a one-shot: ${oneShot}`);
});

test.run();
