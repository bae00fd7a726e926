// "cowboot install" on a real Debian trixie root with Debian's kernel and
// GRUB's tools (scripts/setup.mjs builds it with mmdebstrap), run inside a
// chroot as root would run it from a clone, with trixie's own Node.js, on a
// release with no unionfs-fuse: the image, the hooks, the GRUB entry;
// a second kernel package built and removed through the hooks; status; then
// a VM boots that root's kernel and image with the entry's command line and
// reaches the end of boot frozen; uninstall leaves nothing behind; and the
// image made without unionfs refuses overlay=unionfs and boots the others.
// (grub-mkconfig prints to stdout without -o; it does not take -o -.)

import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MAN_PAGE_FILES } from '../../cli/docs/pages';
import { manPagePath } from '../../cli/system/layout';
import { MountedRoot } from '../../scripts/vm/chroot';
import { DEBIAN_UUIDS, makeDebianDisks } from '../../scripts/vm/debian';
import { makeGuestDisk, REPORTING_INIT } from '../../scripts/vm/guest';
import { testKernel } from '../../scripts/vm/kernel';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';
import { bootMedium } from './harness';
import { cowbootIn, differences, grubDefaults, NOT_OURS, ok, testDebs } from './installing';

// The bootable root's kernel is the trixie test kernel's version: both come from the same mirror.
const KERNEL = testKernel().version;

test('install, a kernel added and removed through the hooks, a frozen boot of what install made, uninstall', async () => {
  const disks = makeDebianDisks('bootable');
  const root = MountedRoot.open(disks.root, [PROJECT_DIR]);
  try {
    // A system as the installer leaves it: GRUB's defaults and a grub.cfg.
    grubDefaults(root);
    ok(root.run(['mkdir', '-p', '/boot/grub']), 'mkdir');
    ok(root.run(['update-grub']), 'update-grub');
    const cowboot = cowbootIn(root);
    const before = root.snapshot(NOT_OURS);

    const dry = ok(cowboot('install', '--dry-run'), 'install --dry-run');
    assert.match(dry.stdout, `build /boot/initrd.img-${KERNEL}.cowboot`);
    assert.equal(differences(before, root.snapshot(NOT_OURS)), [], '--dry-run changed nothing');

    const started = Date.now();
    const installed = ok(cowboot('install', '--overlay', 'overlayfs'), 'install');
    console.log(`install: ${((Date.now() - started) / 1000).toFixed(1)} s\n${installed.stdout}`);
    for (const path of [`/boot/initrd.img-${KERNEL}.cowboot`, '/etc/kernel/postinst.d/z50-cowboot', '/etc/kernel/postrm.d/z50-cowboot', '/etc/grub.d/11_cowboot', '/usr/local/sbin/cowboot', '/usr/local/lib/cowboot/node', ...MAN_PAGE_FILES.map(manPagePath)]) {
      assert.ok(existsSync(root.path(path)), `${path} is there`);
    }
    const config = ok(root.run(['grub-mkconfig']), 'grub-mkconfig').stdout;
    // As a pattern: trixie's kernel version has a '+' in it (6.12.117+deb13-amd64).
    const kernel = KERNEL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const entry = new RegExp(`menuentry 'Debian GNU/Linux, with Linux ${kernel}, frozen \\(changes in RAM\\)'[^\\n]*\\{\\n(?:.*\\n)*?\\tlinux\\t/boot/vmlinuz-${kernel} (.*)\\n\\tinitrd\\t/boot/initrd\\.img-${kernel}\\.cowboot\\n\\}`).exec(config);
    assert.ok(entry, `the frozen entry in grub-mkconfig's output:\n${config}`);
    const cmdline = entry![1]!.trim();
    assert.match(cmdline, `root=UUID=${DEBIAN_UUIDS.root} overlay=overlayfs`);
    // Debian's GRUB_CMDLINE_LINUX_DEFAULT follows ours, as in its own entries.
    assert.match(cmdline, / quiet$/);

    const status = ok(root.run(['cowboot', 'status']), 'status').stdout;
    console.log(status);
    assert.match(status, `${KERNEL}: current (/boot/initrd.img-${KERNEL}.cowboot)`);
    assert.match(status, 'GRUB\'s default is "Debian GNU/Linux" (GRUB_DEFAULT=0): not frozen');
    assert.match(status, 'not frozen: / is ext4 on /dev/zram');
    const unknown = root.run(['cowboot', 'update', '9.9-nope']);
    assert.is(unknown.status, 1);
    assert.match(unknown.stderr, `cowboot: error: kernel 9.9-nope is not installed: no /boot/vmlinuz-9.9-nope with /lib/modules/9.9-nope/modules.dep; installed: ${KERNEL}`);

    // Again from the installed copy, now as the default: GRUB's first entry, so its entry 0.
    ok(root.run(['cowboot', 'install', '--default']), 'install --default');
    assert.not.ok(existsSync(root.path('/etc/grub.d/11_cowboot')), 'one GRUB script at a time');
    // Built while the installed copy was being replaced: from the new copy whole, nothing half-replaced in it.
    assert.not.match(ok(root.run(['cowboot', 'list', `/boot/initrd.img-${KERNEL}.cowboot`]), 'list').stdout, 'cowboot-undo');
    assert.match(ok(root.run(['cowboot', 'status']), 'status').stdout, `GRUB's default is "Debian GNU/Linux, with Linux ${KERNEL}, frozen (changes in RAM)" (GRUB_DEFAULT=0): frozen`);

    // The kernel's own maintainer scripts run the hooks.
    const [secondDeb] = testDebs('second-kernel');
    copyFileSync(secondDeb!, root.path('/tmp/second-kernel.deb'));
    const second = /^linux-image-(.*)_[^_]*_amd64\.deb$/.exec(secondDeb!.split('/').at(-1)!)![1]!;
    ok(root.run(['dpkg', '-i', '/tmp/second-kernel.deb']), 'dpkg -i');
    assert.ok(existsSync(root.path(`/boot/initrd.img-${second}.cowboot`)), 'the hook built the new kernel\'s image');
    assert.match(readFileSync(root.path('/boot/grub/grub.cfg'), 'utf8'), `with Linux ${second}, frozen (changes in RAM)`);
    assert.match(ok(root.run(['cowboot', 'status']), 'status').stdout, `${second}: current`);
    ok(root.run(['dpkg', '--purge', `linux-image-${second}`]), 'dpkg --purge');
    assert.not.ok(existsSync(root.path(`/boot/initrd.img-${second}.cowboot`)), 'the hook removed its image');
    assert.not.match(readFileSync(root.path('/boot/grub/grub.cfg'), 'utf8'), second);

    // The disk as install left it, and its kernel and image, for the VM.
    const vmlinuz = join(VM_CACHE, 'installed-vmlinuz');
    const image = join(VM_CACHE, 'installed-initrd.img');
    copyFileSync(root.path(`/boot/vmlinuz-${KERNEL}`), vmlinuz);
    copyFileSync(root.path(`/boot/initrd.img-${KERNEL}.cowboot`), image);
    const disk = join(VM_CACHE, 'debian-bootable-installed.ext4');
    root.saveTo(disk);

    const removed = ok(root.run(['cowboot', 'uninstall']), 'uninstall');
    console.log(removed.stdout);
    assert.equal(differences(before, root.snapshot(NOT_OURS)), [], 'uninstall left the system as it was');

    const booted = await bootMedium({ name: 'installed-frozen', image, kernel: vmlinuz, medium: { disks: [disk, disks.second] }, append: cmdline, timeoutMs: 300_000 });
    assert.equal(booted.report('state'), ['running']);
    assert.equal(booted.report('rootfs'), ['overlay']);
    assert.equal(booted.report('root-write'), ['ok']);
    const frozen = booted.report('status');
    console.log(frozen.join('\n'));
    assert.ok(frozen.some((line) => line.startsWith(`  ${KERNEL}: current`)), 'status in the frozen system: the image is current');
    assert.ok(frozen.some((line) => /^frozen now \(overlay=overlayfs, over \/dev\/\w+\), changes in RAM; the root's changes: [\d.]+ MiB of [\d.]+ MiB/.test(line)), 'status says frozen, with the RAM used');
  } finally {
    root.close();
  }
});

// The image install made on trixie, booting the busybox root the mechanics tests use.
const withoutUnionfs = (name: string, append: string, finishes = true) =>
  bootMedium({ name, image: join(VM_CACHE, 'installed-initrd.img'), medium: { disks: [reporting] }, append: `root=/dev/vda ${append}`, finishes });
let reporting = '';

test('the image made without unionfs-fuse: overlay=unionfs stops in the config stage, naming why and the kinds it has', async () => {
  reporting = makeGuestDisk('without-unionfs', { init: REPORTING_INIT });
  const booted = await withoutUnionfs('without-unionfs-refused', 'overlay=unionfs rd.shell=0 rd.emergency=poweroff panic=-1', false);
  assert.match(booted.console, 'command line: overlay=unionfs is not valid: expected one of dm, overlayfs, none: this image was built without unionfs-fuse (Debian 13 and later have no package for it); it carries dm, overlayfs, none');
  assert.match(booted.console, 'stage config failed and rd.shell=0 allows no shell; poweroff in 0 s');
  assert.not.match(booted.console, /GUEST /, 'the root was never reached');
  assert.match(booted.console, /reboot: Power down/);
});

for (const overlay of ['dm', 'overlayfs', 'none'] as const) {
  test(`the image made without unionfs-fuse boots overlay=${overlay}`, async () => {
    const booted = await withoutUnionfs(`without-unionfs-${overlay}`, `overlay=${overlay}`);
    assert.equal(booted.report('writable'), [overlay === 'none' ? 'no' : 'yes']);
  });
}

test.run();
