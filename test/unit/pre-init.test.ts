import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { preInitScript } from '../../builder/pre-init';
import { DEFAULT_CONFIG } from '../../src/config';

const LOOP = { name: 'loop', path: '/lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko' };
const SQUASHFS = { name: 'squashfs', path: '/lib/modules/6.1.0-56-amd64/kernel/fs/squashfs/squashfs.ko' };

function syntaxChecked(script: string): string {
  const check = spawnSync('busybox', ['sh', '-n'], { input: script, encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  return script;
}

test('runtime image: mounts /proc, /dev, loads its modules in order, mounts the image, then becomes the runtime', () => {
  const script = syntaxChecked(preInitScript({ runtime: '/usr/bin/node', runtimeImage: { modules: [LOOP, SQUASHFS], hotPages: false }, config: DEFAULT_CONFIG }));
  const steps = ['mount -t proc', 'mount -t devtmpfs', `insmod '${LOOP.path}'`, `insmod '${SQUASHFS.path}'`, 'mount -t squashfs -o ro,loop /lib/cowboot/runtime.squashfs /usr/lib/cowboot/runtime', '[ -x /usr/bin/node ]', '/usr/bin/node --version >/dev/null ||', 'until start; do rescue; done', 'unset PATH PWD OLDPWD SHLVL', 'exec /usr/bin/node /lib/cowboot/init.js "$@"'];
  const at = steps.map((step) => script.indexOf(step));
  assert.ok(at.every((i) => i > 0), `missing: ${steps.filter((_, i) => at[i] === -1).join(' | ')}`);
  assert.equal([...at].sort((a, b) => a - b), at, 'the steps are out of order');
  assert.match(script, "grep -q '^loop ' /proc/modules || insmod");
  assert.match(script, '\nshell=1 emergency=reboot panic= password=0 why= hot=\n');
});

test('hot pages: unpacked after the mount, the check run with them and again without where they fail, LD_AUDIT exported last', () => {
  const script = syntaxChecked(preInitScript({ runtime: '/usr/bin/node', runtimeImage: { modules: [LOOP, SQUASHFS], hotPages: true }, config: DEFAULT_CONFIG }));
  const steps = ['mount -t squashfs', 'lz4 -d -q -f /lib/cowboot/node.hot.lz4 /lib/cowboot/node.hot', 'rm -f /lib/cowboot/node.hot.lz4', '[ -e /lib/cowboot/node.hot ] && hot=/lib/cowboot/hot-pages.so', '! LD_AUDIT=$hot /usr/bin/node --version', 'it starts from its image alone', '[ -n "$hot" ] || /usr/bin/node --version', 'unset PATH', '[ -z "$hot" ] || export LD_AUDIT="$hot"', 'exec /usr/bin/node'];
  const at = steps.map((step) => script.indexOf(step));
  assert.ok(at.every((i) => i > 0), `missing: ${steps.filter((_, i) => at[i] === -1).join(' | ')}`);
  assert.equal([...at].sort((a, b) => a - b), at, 'the steps are out of order');
});

test('no hot pages: no lz4, no LD_AUDIT', () => {
  const script = preInitScript({ runtime: '/usr/bin/node', runtimeImage: { modules: [LOOP, SQUASHFS], hotPages: false }, config: DEFAULT_CONFIG });
  assert.not.match(script, /lz4|LD_AUDIT/);
});

test('Bun in the cpio: /proc only, no image to mount', () => {
  const script = syntaxChecked(preInitScript({ runtime: '/usr/bin/bun', runtimeImage: null, config: DEFAULT_CONFIG }));
  assert.match(script, 'mount -t proc');
  assert.not.match(script, /devtmpfs|insmod|squashfs/);
  assert.match(script, 'exec /usr/bin/bun /lib/cowboot/init.js "$@"');
});

test("the image's defaults for a failure: no shell, poweroff, panic=, and no shell at all with a rescue password", () => {
  const config = { ...DEFAULT_CONFIG, shell: false, emergency: 'poweroff' as const, panic: 7, rescuePassword: 'scrypt:16384:8:1:c2FsdA:aGFzaA' };
  const script = syntaxChecked(preInitScript({ runtime: '/usr/bin/node', runtimeImage: { modules: [], hotPages: false }, config }));
  assert.match(script, '\nshell=0 emergency=poweroff panic=7 password=1 why= hot=\n');
  // The command line still overrides them, as the bundle reads it.
  assert.match(script, 'rd.shell=0) shell=0 ;;');
  assert.match(script, 'rd.rescue-password=*) password=1 ;;');
});

test.run();
