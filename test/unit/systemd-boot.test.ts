// systemd-boot's side of install and status, as pure functions: which boot
// loader install uses, its checks, the frozen entry beside the kernel's own,
// and the default entry as systemd-boot picks it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type InstallOptions, installProblems } from '../../cli/system/checks';
import { bootLoaderOf, type HostFacts, type SystemdBootFacts } from '../../cli/system/facts';
import { kernelInstallPlugin } from '../../cli/system/layout';
import { defaultEntry, efiString, entryChanges, entryOptions, entryText, parseEntry, sortEntries, sortKey, systemdBootDefault } from '../../cli/system/systemd-boot';

const UUID = '0d1e2b3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
const KERNEL = '6.12.117+deb13-amd64';
const NO_VARIABLES = { oneShot: null, default: null };
const BOOT: SystemdBootFacts = {
  bootRoot: '/boot/efi',
  token: 'debian',
  layout: 'bls',
  kernelCmdline: `root=UUID=${UUID} ro console=ttyS0 quiet`,
  loaderDefault: 'debian-*',
  loaderVariables: { oneShot: null, default: null },
  osId: 'debian',
  osName: 'Debian GNU/Linux 13 (trixie)',
  kernelsThere: [KERNEL],
};
const FACTS: HostFacts = {
  uid: 0,
  hasBoot: true,
  kernels: [KERNEL],
  root: { kind: 'block', device: '/dev/vda2', fsType: 'ext4', uuid: UUID, stack: [{ kind: 'disk', device: '/dev/vda2' }], subvolume: null },
  grub: null,
  missingPackages: [],
  luks: [],
  unions: ['dm', 'overlayfs', 'none'],
  systemdBoot: BOOT,
  bootedBy: null,
};
const OPTIONS: InstallOptions = { overlay: 'overlayfs', cowsize: undefined, mounts: undefined, makeDefault: false, dryRun: false, noBootloader: false };
const problems = (boot: Partial<SystemdBootFacts>, options: Partial<InstallOptions> = {}) => installProblems({ ...FACTS, systemdBoot: { ...BOOT, ...boot } }, { ...OPTIONS, ...options });

test('the boot loader: the one the firmware says booted, else GRUB where it is set up, else systemd-boot', () => {
  const grub = { update: ['/usr/sbin/update-grub'], defaultEntry: '0' };
  assert.is(bootLoaderOf({ grub: null, systemdBoot: BOOT, bootedBy: null }), 'systemd-boot');
  assert.is(bootLoaderOf({ grub, systemdBoot: BOOT, bootedBy: null }), 'grub');
  assert.is(bootLoaderOf({ grub, systemdBoot: BOOT, bootedBy: 'systemd-boot' }), 'systemd-boot');
  assert.is(bootLoaderOf({ grub, systemdBoot: null, bootedBy: 'systemd-boot' }), 'grub');
  assert.is(bootLoaderOf({ grub: null, systemdBoot: null, bootedBy: null }), null);
});

test('systemd-boot as Debian sets it up passes; a layout other than bls, a kernel not on the ESP and a default that cannot take ours are refused', () => {
  assert.equal(problems({}), []);
  assert.equal(problems({}, { makeDefault: true }), []);
  assert.equal(problems({ loaderDefault: null }, { makeDefault: true }), []);
  assert.equal(problems({ layout: 'uki' }), ["kernel-install's layout is uki, not bls: cowboot writes Boot Loader Specification type 1 entries beside the kernels kernel-install copies to /boot/efi"]);
  assert.equal(problems({ kernelsThere: [] }), [
    `Linux ${KERNEL} is not on the ESP (no /boot/efi/debian/${KERNEL}/linux), so no entry could boot it frozen: run kernel-install add ${KERNEL} /boot/vmlinuz-${KERNEL} first`,
  ]);
  assert.equal(problems({ loaderDefault: `debian-${KERNEL}.conf` }, { makeDefault: true }), [
    `--default: loader.conf says "default debian-${KERNEL}.conf", which the frozen entries (debian-${KERNEL}-cowboot.conf) do not match; remove that line, or make it match them`,
  ]);
  assert.equal(problems({ loaderVariables: { oneShot: null, default: `debian-${KERNEL}.conf` } }, { makeDefault: true }), [
    `--default: the EFI variable LoaderEntryDefault (bootctl set-default) names debian-${KERNEL}.conf, which wins over loader.conf and is not the frozen entries (debian-${KERNEL}-cowboot.conf); run: bootctl set-default ''`,
  ]);
  assert.equal(problems({ loaderVariables: { oneShot: null, default: '*-cowboot.conf' } }, { makeDefault: true }), []);
});

test('the frozen entry: the kernel kernel-install copied, our image beside it, our options then the system\'s own less root=', () => {
  const options = entryOptions(BOOT, `root=UUID=${UUID} overlay=overlayfs`);
  assert.is(options, `root=UUID=${UUID} overlay=overlayfs ro console=ttyS0 quiet`);
  assert.is(
    entryText(BOOT, KERNEL, options, sortKey(BOOT, false)),
    [
      '# Written by "cowboot install" and its kernel-install plugin; "cowboot uninstall" removes it.',
      'title      Debian GNU/Linux 13 (trixie), frozen (changes in RAM)',
      `version    ${KERNEL}`,
      'sort-key   debian-cowboot',
      `options    ${options}`,
      `linux      /debian/${KERNEL}/linux`,
      `initrd     /debian/${KERNEL}/initrd.img-${KERNEL}.cowboot`,
      '',
    ].join('\n'),
  );
  assert.equal(
    entryChanges(BOOT, KERNEL, options, 'cowboot').map((c) => ('path' in c ? `${c.kind} ${c.path}` : c.kind)),
    [`copy /boot/efi/debian/${KERNEL}/initrd.img-${KERNEL}.cowboot`, `write /boot/efi/loader/entries/debian-${KERNEL}-cowboot.conf`],
  );
  assert.match(kernelInstallPlugin(options, 'debian-cowboot'), `kernel-install --options 'root=UUID=${UUID} overlay=overlayfs ro console=ttyS0 quiet' --sort-key 'debian-cowboot' "$@"`);
});

const debians = (key: string) => [
  parseEntry(`debian-${KERNEL}.conf`, `title Debian GNU/Linux 13 (trixie)\nversion ${KERNEL}\nsort-key debian\n`),
  parseEntry(`debian-${KERNEL}-cowboot.conf`, `title Debian GNU/Linux 13 (trixie), frozen (changes in RAM)\nversion ${KERNEL}\nsort-key ${key}\n`),
  parseEntry('debian-6.1.0-50-amd64.conf', 'title Debian GNU/Linux 12 (bookworm)\nversion 6.1.0-50-amd64\nsort-key debian\n'),
  parseEntry('memtest.conf', 'title Memtest86+\n'),
];

test('entries in the order systemd-boot shows them: by sort-key, newest version first, those without a key last', () => {
  assert.equal(sortEntries(debians('debian-cowboot')).map((e) => e.id), [`debian-${KERNEL}.conf`, 'debian-6.1.0-50-amd64.conf', `debian-${KERNEL}-cowboot.conf`, 'memtest.conf']);
  assert.equal(sortEntries(debians('cowboot')).map((e) => e.id)[0], `debian-${KERNEL}-cowboot.conf`);
});

test("the default: loader.conf's glob over that order, else the first; without --default the system's own entry stays the default", () => {
  assert.is(defaultEntry(debians('debian-cowboot'), 'debian-*')?.id, `debian-${KERNEL}.conf`);
  assert.is(defaultEntry(debians('cowboot'), 'debian-*')?.id, `debian-${KERNEL}-cowboot.conf`);
  assert.is(defaultEntry(debians('cowboot'), null)?.id, `debian-${KERNEL}-cowboot.conf`);
  assert.is(defaultEntry(debians('cowboot'), 'memtest*')?.id, 'memtest.conf');
  assert.is(
    systemdBootDefault(debians('cowboot'), 'debian-*', '/boot/efi/loader/loader.conf', NO_VARIABLES),
    'systemd-boot\'s default is "Debian GNU/Linux 13 (trixie), frozen (changes in RAM)" (/boot/efi/loader/loader.conf: default debian-*): frozen',
  );
  assert.is(
    systemdBootDefault(debians('debian-cowboot'), null, '/boot/efi/loader/loader.conf', NO_VARIABLES),
    'systemd-boot\'s default is "Debian GNU/Linux 13 (trixie)" (no default in /boot/efi/loader/loader.conf: the first entry): not frozen',
  );
  assert.is(systemdBootDefault([], 'x*', 'L', NO_VARIABLES), "systemd-boot's default (L: default x*) names no entry");
});

test('the EFI variables win over loader.conf, as systemd-boot reads them: the one-shot for the next boot, then LoaderEntryDefault', () => {
  const conf = '/boot/efi/loader/loader.conf';
  assert.is(
    systemdBootDefault(debians('cowboot'), 'debian-*', conf, { oneShot: null, default: `debian-${KERNEL}.conf` }),
    `systemd-boot's default is "Debian GNU/Linux 13 (trixie)" (LoaderEntryDefault=debian-${KERNEL}.conf, which wins over ${conf}): not frozen`,
  );
  assert.is(
    systemdBootDefault(debians('cowboot'), 'debian-*', conf, { oneShot: `debian-${KERNEL}.conf`, default: 'gone.conf' }),
    `systemd-boot's default is "Debian GNU/Linux 13 (trixie), frozen (changes in RAM)" (LoaderEntryDefault=gone.conf names no entry, so ${conf}: default debian-*): frozen; the next boot only: "Debian GNU/Linux 13 (trixie)" (LoaderEntryOneShot=debian-${KERNEL}.conf): not frozen`,
  );
  // As efivarfs gives them: the attributes, then UTF-16LE with its NUL.
  const file = Buffer.concat([Buffer.from([7, 0, 0, 0]), Buffer.from('debian-x.conf\0', 'utf16le')]);
  assert.is(efiString(file), 'debian-x.conf');
  assert.is(efiString(Buffer.from([7, 0, 0, 0])), null);
});

test.run();
