// cowboot install's checks and status's judgements, against HostFacts as
// data: every error names what is wrong and what to do.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SQUASHFS_COMPRESSIONS } from '../../builder/runtime-image';
import { INSTALLED_MARKER, installedAssets, RUNTIME_IMAGE_FILE } from '../../cli/assets';
import { entryCmdline, freezableRoot, type InstallOptions, installProblems, unknownKernels } from '../../cli/system/checks';
import type { HostFacts } from '../../cli/system/facts';
import { grubScript, kernelOfImage, manualEntries, shQuote } from '../../cli/system/layout';
import { rootMount } from '../../cli/system/host';
import { type Layer, stackOf } from '../../builder/volume-stack';
import { frozenLine, grubDefault, grubEntries, type ImageFacts, imageState } from '../../cli/system/status';

const UUID = '0d1e2b3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
const GOOD: HostFacts = {
  uid: 0,
  hasBoot: true,
  kernels: ['6.1.0-56-amd64'],
  root: { kind: 'block', device: '/dev/vda1', fsType: 'ext4', uuid: UUID, stack: [{ kind: 'disk', device: '/dev/vda1' }], subvolume: null },
  grub: { update: ['/usr/sbin/update-grub'], defaultEntry: '0' },
  missingPackages: [],
  luks: [],
  unions: ['unionfs', 'dm', 'overlayfs', 'none'],
  systemdBoot: null,
  bootedBy: null,
};
const OPTIONS: InstallOptions = { overlay: 'overlayfs', cowsize: undefined, mounts: undefined, makeDefault: false, dryRun: false, noBootloader: false };

const problems = (facts: Partial<HostFacts>, options: Partial<InstallOptions> = {}) => installProblems({ ...GOOD, ...facts }, { ...OPTIONS, ...options });

test('a Debian system as installed passes; the entry boots its root by UUID with the chosen defaults', () => {
  assert.equal(problems({}), []);
  assert.is(entryCmdline({ uuid: UUID, params: [] }, { ...OPTIONS, cowsize: '1G', mounts: 'ro' }), `root=UUID=${UUID} overlay=overlayfs cowsize=1G mounts=ro`);
});

const LUKS_UUID = '9c5d4e3f-7a6b-4c8d-8e9f-1a2b3c4d5e6f';
const ENCRYPTED_LVM: Layer[] = [{ kind: 'lvm', vg: 'debian-vg', lv: 'root' }, { kind: 'luks', uuid: LUKS_UUID }, { kind: 'disk', device: '/dev/vda3' }];

test('the roots installers make: encrypted LVM, btrfs in a subvolume, xfs; the entry opens each open LUKS container, and mounts the subvolume', () => {
  const lvm = { kind: 'block', device: '/dev/dm-1', fsType: 'ext4', uuid: UUID, stack: ENCRYPTED_LVM, subvolume: null } as const;
  assert.equal(problems({ root: lvm, luks: [LUKS_UUID, '1a2b3c4d-0000-4000-8000-000000000000'] }), []);
  assert.equal(freezableRoot(lvm, [LUKS_UUID, '1a2b3c4d-0000-4000-8000-000000000000']), { uuid: UUID, params: [`rd.luks.uuid=${LUKS_UUID}`, 'rd.luks.uuid=1a2b3c4d-0000-4000-8000-000000000000'] });
  const btrfs = { kind: 'block', device: '/dev/vda2', fsType: 'btrfs', uuid: UUID, stack: [{ kind: 'disk', device: '/dev/vda2' }], subvolume: '@' } as const;
  assert.equal(freezableRoot(btrfs), { uuid: UUID, params: ['rootflags=subvol=@'] });
  assert.ok('uuid' in freezableRoot({ ...btrfs, fsType: 'xfs', subvolume: null }));
  assert.is(frozenLine(lvm, []), 'not frozen: / is ext4 on LV debian-vg/root on LUKS UUID=9c5d4e3f-7a6b-4c8d-8e9f-1a2b3c4d5e6f on /dev/vda3');
});

test('not root: refused, except for --dry-run', () => {
  assert.equal(problems({ uid: 1000 }), ['cowboot install must run as root: it writes /boot, /etc and /usr/local (try sudo, or --dry-run to see what it would do)']);
  assert.equal(problems({ uid: 1000 }, { dryRun: true }), []);
});

test('no /boot, or no kernel in it', () => {
  assert.equal(problems({ hasBoot: false }), ['/boot does not exist: cowboot keeps its images beside the kernels there']);
  assert.equal(problems({ kernels: [] }), ['no kernel to build for: no /boot/vmlinuz-VER with its /lib/modules/VER/modules.dep']);
});

test('the stack read from sysfs: an LV (dashes doubled in its dm name) in a LUKS2 container on a partition', () => {
  const files: Record<string, string> = {
    '/sys/class/block/dm-1/dm/uuid': 'LVM-Xq3…',
    '/sys/class/block/dm-1/dm/name': 'debian--vg-root',
    '/sys/class/block/dm-0/dm/uuid': `CRYPT-LUKS2-${LUKS_UUID.replaceAll('-', '')}-vda3_crypt`,
    '/sys/class/block/dm-0/dm/name': 'vda3_crypt',
  };
  const slaves: Record<string, string[]> = { '/sys/class/block/dm-1/slaves': ['dm-0'], '/sys/class/block/dm-0/slaves': ['vda3'] };
  assert.equal(stackOf('dm-1', { text: (path) => files[path] ?? '', list: (path) => slaves[path] ?? [] }), ENCRYPTED_LVM);
});

test('a root cowboot cannot freeze is named with the reason', () => {
  const block = { kind: 'block', device: '/dev/sda2', fsType: 'ext4', uuid: UUID, stack: [{ kind: 'disk', device: '/dev/sda2' }], subvolume: null } as const;
  assert.equal(problems({ root: { ...block, fsType: 'f2fs' } }), ['/ is f2fs on /dev/sda2: cowboot freezes roots on ext2, ext3, ext4, xfs, btrfs']);
  assert.equal(problems({ root: { ...block, device: '/dev/dm-0', stack: [{ kind: 'dm', name: 'vroot' }, { kind: 'disk', device: '/dev/sda2' }] } }), [
    '/ is on device-mapper device vroot on /dev/sda2: vroot is a device-mapper device that is neither an LVM volume nor a LUKS container, which cowboot\'s image would not make at boot, so it could not find the root at boot',
  ]);
  assert.equal(problems({ root: { ...block, device: '/dev/md0', stack: [{ kind: 'md', device: '/dev/md0' }, { kind: 'disk', device: '/dev/sda1' }, { kind: 'disk', device: '/dev/sdb1' }] } }), []);
  assert.equal(problems({ root: { ...block, uuid: null } }), ['/dev/sda2 has no filesystem UUID: the frozen entry finds the root by root=UUID=']);
  assert.match(problems({ root: { kind: 'other', fsType: 'nfs4', source: 'server:/export' } })[0]!, '/ is nfs4 from server:/export, not a filesystem on a disk');
  assert.match(problems({ root: { kind: 'frozen', union: 'overlayfs', medium: [] } })[0]!, 'this system is frozen now (/ is cowboot\'s overlayfs union, its changes in RAM): run this from a normal boot');
  for (const fsType of ['ext2', 'ext3', 'ext4']) assert.ok('uuid' in freezableRoot({ ...block, fsType }));
});

test('an unknown kernel is named with the installed ones', () => {
  assert.equal(unknownKernels(['6.1.0-56-amd64', '9.9-nope'], ['6.1.0-56-amd64']), [
    'kernel 9.9-nope is not installed: no /boot/vmlinuz-9.9-nope with /lib/modules/9.9-nope/modules.dep; installed: 6.1.0-56-amd64',
  ]);
});

test('missing packages are named with the apt-get command', () => {
  assert.equal(problems({ missingPackages: ['busybox-static', 'libatomic1'] }), [
    'cowboot needs busybox-static, libatomic1 to build its images; install with: apt-get install busybox-static libatomic1',
  ]);
});

test('--overlay unionfs where this machine has no unionfs-fuse (Debian 13): refused with the reason and the kinds it has', () => {
  const without = { unions: ['dm', 'overlayfs', 'none'] } as const;
  assert.equal(problems(without, { overlay: 'unionfs' }), [
    '--overlay unionfs cannot be: this machine has no unionfs-fuse (Debian 13 and later have no package for it), so the images it builds carry dm, overlayfs, none',
  ]);
  assert.equal(problems(without), []);
  assert.equal(problems({}, { overlay: 'unionfs' }), []);
});

test('no GRUB: the error says --no-bootloader, and prints entries for GRUB and systemd-boot to add by hand', () => {
  const [message] = problems({ grub: null });
  assert.match(message!, 'no boot loader cowboot can add entries to (no GRUB: no /etc/grub.d with update-grub or grub-mkconfig; no systemd-boot that bootctl finds): give --no-bootloader to install the images and the kernel hooks only, and add an entry by hand.');
  assert.match(message!, `linux /boot/vmlinuz-6.1.0-56-amd64 root=UUID=${UUID} overlay=overlayfs\n    initrd /boot/initrd.img-6.1.0-56-amd64.cowboot`);
  assert.match(message!, 'title   Linux 6.1.0-56-amd64, frozen (changes in RAM)\nlinux   /vmlinuz-6.1.0-56-amd64\ninitrd  /initrd.img-6.1.0-56-amd64.cowboot\noptions root=UUID=');
  assert.equal(problems({ grub: null }, { noBootloader: true }), []);
  assert.equal(problems({ grub: null }, { noBootloader: true, makeDefault: true }), ['--default makes the frozen entry the default; with --no-bootloader there is none']);
});

test('--default needs GRUB_DEFAULT=0, since the entry becomes the first', () => {
  assert.equal(problems({}, { makeDefault: true }), []);
  assert.equal(problems({ grub: { update: ['/usr/sbin/update-grub'], defaultEntry: 'saved' } }, { makeDefault: true }), [
    '--default: GRUB_DEFAULT=saved in /etc/default/grub, so GRUB\'s default is not its first entry; set GRUB_DEFAULT=0, or choose the entry with grub-set-default',
  ]);
});

test('bad option values name the option, the value and what is valid, all at once', () => {
  assert.equal(problems({}, { overlay: 'aufs', cowsize: 'lots', mounts: 'rw' }), [
    '--overlay aufs is not valid: expected one of unionfs, dm, overlayfs, none',
    '--cowsize lots is not valid: expected a size such as 512M, 2G or 25% (of RAM)',
    '--mounts rw is not valid: expected one of cow, ro, fstab',
  ]);
});

test('the GRUB script quotes the command line for sh; image names give their kernel', () => {
  assert.is(shQuote("it's"), `'it'\\''s'`);
  assert.match(grubScript(`root=UUID=${UUID} overlay=dm`), `cowboot_cmdline='root=UUID=${UUID} overlay=dm'`);
  assert.is(kernelOfImage('initrd.img-6.1.0-56-amd64.cowboot'), '6.1.0-56-amd64');
  assert.is(kernelOfImage('initrd.img-6.1.0-56-amd64'), null);
  assert.match(manualEntries('6.1', UUID, 'root=x'), 'search --no-floppy --fs-uuid --set=root');
});

test('the root mount is the last mount on / in mountinfo; a btrfs root shows its subvolume', () => {
  const info = `22 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw
25 22 0:22 / /run rw - tmpfs tmpfs rw
30 22 0:40 / / rw - overlay cow rw,lowerdir=/run/initramfs/ro`;
  assert.equal(rootMount(info), { devno: '0:40', root: '/', fsType: 'overlay', source: 'cow' });
  assert.equal(rootMount(info.split('\n')[0]!), { devno: '8:2', root: '/', fsType: 'ext4', source: '/dev/sda2' });
  assert.equal(rootMount('26 1 0:24 /@ / rw,relatime shared:1 - btrfs /dev/vda2 rw,subvol=/@'), { devno: '0:24', root: '/@', fsType: 'btrfs', source: '/dev/vda2' });
});

const WANTED = { init: 'i', config: '{"overlay":"overlayfs"}', node: 'n' };
const IMAGE: ImageFacts = { kernel: '6.1', init: 'i', config: WANTED.config, node: 'n', unions: 'dm, overlayfs, none', mtimeMs: 2000 };

test('an image is current only if it holds what would be packed now, and is newer than the modules', () => {
  assert.equal(imageState('6.1', IMAGE, WANTED, 1000), { current: true });
  assert.equal(imageState('6.1', null, WANTED, 1000), { current: false, why: 'missing: no /boot/initrd.img-6.1.cowboot' });
  assert.equal(imageState('6.1', 'unreadable', WANTED, 1000), { current: false, why: 'unreadable: /boot/initrd.img-6.1.cowboot is not an initramfs' });
  assert.equal(imageState('6.1', { ...IMAGE, kernel: '6.0' }, WANTED, 1000), { current: false, why: 'stale: built for 6.0' });
  assert.equal(imageState('6.1', { ...IMAGE, init: 'old' }, WANTED, 1000), { current: false, why: 'stale: built by another version of cowboot' });
  assert.equal(imageState('6.1', { ...IMAGE, config: '{}' }, WANTED, 1000), { current: false, why: 'stale: built with other defaults than /etc/cowboot/config.json' });
  assert.equal(imageState('6.1', { ...IMAGE, node: 'x' }, WANTED, 1000), { current: false, why: 'stale: built with another Node binary' });
  assert.equal(imageState('6.1', IMAGE, WANTED, 3000), { current: false, why: "stale: the kernel's modules changed after it was built (/lib/modules/6.1/modules.dep is newer)" });
});

const GRUB_CFG = `menuentry 'Debian GNU/Linux' --class debian $menuentry_id_option 'gnulinux-simple-x' {
	linux /boot/vmlinuz
}
submenu 'Advanced options for Debian GNU/Linux' $menuentry_id_option 'gnulinux-advanced-x' {
	menuentry 'Debian GNU/Linux, with Linux 6.1' --class debian $menuentry_id_option 'gnulinux-6.1-advanced-x' {
	}
}
menuentry 'Debian GNU/Linux, with Linux 6.1, frozen (changes in RAM)' --class debian $menuentry_id_option 'cowboot-6.1' {
}
`;

test('the default boot entry, as GRUB_DEFAULT and grubenv name it', () => {
  assert.equal(grubEntries(GRUB_CFG).map((e) => e.id), ['gnulinux-simple-x', 'gnulinux-advanced-x', 'cowboot-6.1']);
  assert.is(grubDefault(GRUB_CFG, '0', null), 'GRUB\'s default is "Debian GNU/Linux" (GRUB_DEFAULT=0): not frozen');
  assert.is(grubDefault(GRUB_CFG, '2', null), 'GRUB\'s default is "Debian GNU/Linux, with Linux 6.1, frozen (changes in RAM)" (GRUB_DEFAULT=2): frozen');
  assert.is(grubDefault(GRUB_CFG, 'saved', 'cowboot-6.1'), 'GRUB\'s default is "Debian GNU/Linux, with Linux 6.1, frozen (changes in RAM)" (GRUB_DEFAULT=saved, saved_entry=cowboot-6.1): frozen');
  assert.is(grubDefault(GRUB_CFG, '7', null), "GRUB's default (GRUB_DEFAULT=7) names no entry of /boot/grub/grub.cfg");
});

test('frozen now, and how full the RAM layer is, marked from the fill warnings\' first step', () => {
  assert.is(frozenLine(GOOD.root, []), 'not frozen: / is ext4 on /dev/vda1');
  assert.is(
    frozenLine({ kind: 'frozen', union: 'overlayfs', medium: [] }, [{ what: "the root's changes", used: 1048576, total: 4194304 }]),
    "frozen now (overlay=overlayfs), changes in RAM; the root's changes: 1.0 MiB of 4.0 MiB (25%)",
  );
  assert.is(
    frozenLine({ kind: 'frozen', union: 'dm', medium: [] }, [{ what: "the root's snapshot", used: 3460300, total: 4194304 }, { what: "the other filesystems' changes", used: 4194304, total: 4194304 }]),
    "frozen now (overlay=dm), changes in RAM; the root's snapshot: 3.3 MiB of 4.0 MiB (82%, nearly full); the other filesystems' changes: 4.0 MiB of 4.0 MiB (100%, full)",
  );
  assert.is(frozenLine({ kind: 'frozen', union: 'dm', medium: ENCRYPTED_LVM }, []), `frozen now (overlay=dm, over LV debian-vg/root on LUKS UUID=${LUKS_UUID} on /dev/vda3), changes in RAM`);
});

test('the installed copy gives its zstd runtime image with minimal ICU, and names the clone for lz4 and for other ICU data', () => {
  const home = mkdtempSync(join(tmpdir(), 'cowboot-installed-'));
  try {
    writeFileSync(join(home, INSTALLED_MARKER), JSON.stringify({ version: '1.0.0' }));
    const assets = installedAssets(home);
    assert.is(assets.runtimeImage('node', 'minimal', SQUASHFS_COMPRESSIONS.zstd, () => {}), join(home, RUNTIME_IMAGE_FILE));
    assert.throws(
      () => assets.runtimeImage('node', 'minimal', SQUASHFS_COMPRESSIONS.lz4, () => {}),
      (error: Error) => error.message === `--pack-runtime squashfs-lz4: the installed copy in ${home} carries the runtime's image in zstd only; build from a clone of the repository for lz4`,
    );
    assert.throws(
      () => assets.runtimeImage('node', 'full', SQUASHFS_COMPRESSIONS.zstd, () => {}),
      (error: Error) => error.message === `--icu full: the installed copy in ${home} carries Node with --icu minimal only; build from a clone of the repository for full`,
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test.run();
