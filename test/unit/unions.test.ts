// The union kinds an image carries: an image built where unionfs-fuse is
// missing (Debian 13) leaves unionfs out, says so at build, install and plan
// time, and refuses overlay=unionfs at boot in the config stage.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { imageUnions } from '../../builder/unions';
import { boot, createContext } from '../../src/boot';
import { IMAGE_UNIONS } from '../../src/layout/image-paths';
import { carriedKinds, carriedText, parseCarried, whyNotCarried } from '../../src/union/carried';
import { plan } from '../../src/plan/plan';
import { fakeSystem, insmod } from './fake-system';

const WITHOUT_UNIONFS = ['dm', 'overlayfs', 'none'] as const;
const WHY = 'this image was built without unionfs-fuse (Debian 13 and later have no package for it); it carries dm, overlayfs, none';

test('a kind with a program is carried only where the build machine has it', () => {
  assert.equal(carriedKinds(() => true), ['unionfs', 'dm', 'overlayfs', 'none']);
  assert.equal(carriedKinds((path) => path !== '/usr/bin/unionfs'), [...WITHOUT_UNIONFS]);
});

test("the image's list reads back, and anything else is refused", () => {
  assert.equal(parseCarried(carriedText(WITHOUT_UNIONFS)), [...WITHOUT_UNIONFS]);
  assert.is(parseCarried('["dm", "aufs"]'), null);
  assert.is(parseCarried('{"dm": 1}'), null);
  assert.is(parseCarried('dm'), null);
});

test('the reason names the package, why it may be missing, and the kinds there are', () => {
  assert.is(whyNotCarried('overlayfs', WITHOUT_UNIONFS, 'image'), null);
  assert.is(whyNotCarried('unionfs', WITHOUT_UNIONFS, 'image'), WHY);
  assert.is(
    whyNotCarried('unionfs', WITHOUT_UNIONFS, 'build machine'),
    'this machine has no unionfs-fuse (Debian 13 and later have no package for it), so the images it builds carry dm, overlayfs, none',
  );
});

test('build: without unionfs the image boots overlayfs by default; a config naming unionfs is refused', () => {
  const all = imageUnions('{}\n', ['unionfs', 'dm', 'overlayfs', 'none']);
  assert.is(all.configJson, '{}\n');
  assert.is(all.summary, 'union kinds in the image: unionfs, dm, overlayfs, none');
  const without = imageUnions('{\n  "quiet": true\n}\n', WITHOUT_UNIONFS);
  assert.equal(JSON.parse(without.configJson), { quiet: true, overlay: 'overlayfs' });
  assert.is(
    without.summary,
    'union kinds in the image: dm, overlayfs, none; left out unionfs: this machine has no unionfs-fuse (Debian 13 and later have no package for it), so the images it builds carry dm, overlayfs, none; the image boots overlay=overlayfs unless told otherwise',
  );
  assert.is(imageUnions('{"overlay": "dm"}', WITHOUT_UNIONFS).configJson, '{"overlay": "dm"}');
  assert.throws(() => imageUnions('{"overlay": "unionfs"}', WITHOUT_UNIONFS), /the config's overlay=unionfs cannot be: this machine has no unionfs-fuse/);
});

const IMAGE_WITHOUT_UNIONFS = { [IMAGE_UNIONS]: carriedText(WITHOUT_UNIONFS), '/etc/cowboot.json': '{"overlay": "overlayfs"}\n' };

function diskBoot(cmdline: string, onShell: (shells: number, sys: ReturnType<typeof fakeSystem>) => void) {
  const sys = fakeSystem({
    '/proc/cmdline': cmdline,
    '/proc/sys/kernel/printk': '7\t4\t1\t7\n',
    '/proc/sys/kernel/printk_devkmsg': 'ratelimit\n',
    '/proc/meminfo': 'MemTotal:        1000000 kB\nMemFree:          900000 kB\nMemAvailable:     950000 kB\n',
    '/dev/vda': { kind: 'file', mode: 0o600, text: 'hsqs' },
    '/newroot/sbin/init': { kind: 'symlink', target: '/bin/busybox' },
    '/newroot/bin/busybox': { kind: 'file', mode: 0o755, text: '' },
    '/newroot/dev': { kind: 'dir' },
    ...IMAGE_WITHOUT_UNIONFS,
  });
  let shells = 0;
  sys.onShell = () => onShell(++shells, sys);
  return sys;
}

test('boot: overlay=unionfs on an image without it stops in the config stage, with the reason, before anything is touched', async () => {
  const sys = diskBoot('root=/dev/vda overlay=unionfs', (shells, s) => {
    if (shells === 1) s.files.set('/proc/cmdline', { kind: 'file', mode: 0o444, text: 'root=/dev/vda' });
  });
  await boot(createContext(sys, [], {}));
  const out = [...sys.console, ...sys.kmsg].join('');
  assert.match(out, `command line: overlay=unionfs is not valid: expected one of dm, overlayfs, none: ${WHY}`);
  const firstShell = sys.calls.findIndex((c) => c.startsWith('shell '));
  assert.ok(firstShell > 0, 'the rescue shell opened');
  assert.not.ok(sys.calls.slice(0, firstShell).some((c) => c.startsWith('insmod') || c.startsWith('mount -t ext')), 'no module loaded, no disk mounted before the shell');
  // Fixed from the shell: the image's own default, overlayfs, boots.
  assert.ok(sys.calls.includes(insmod('fs/overlayfs/overlay.ko')));
  assert.is(sys.execveCalls.length, 1, 'handed over');
  assert.not.ok(sys.calls.includes(insmod('fs/fuse/fuse.ko')));
});

test('plan mode imagines the image this machine would build, and stops where boot would', async () => {
  const refused = await plan('root=/dev/vda overlay=unionfs', null, WITHOUT_UNIONFS);
  assert.is(refused.ok, false);
  assert.match(refused.text, 'assuming: 2G of RAM; the running kernel is the one the image was built for (VERSION); the image carries the union kinds dm, overlayfs, none');
  assert.match(refused.text, `overlay=unionfs is not valid: expected one of dm, overlayfs, none: ${WHY}`);
  assert.ok((await plan('root=/dev/vda overlay=dm', null, WITHOUT_UNIONFS)).ok);
});

test.run();
