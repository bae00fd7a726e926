// The fill warnings: which RAM layers a boot watches, and the watcher the
// handoff starts. What the script says as a layer fills is proven by
// test/vm/fill-warnings.test.ts, on the real kernel.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configFromCmdline, mergeConfig } from '../../src/config';
import { parseCmdline } from '../../src/formats/cmdline';
import { COW_DIR, FILL_WATCH, MOUNTS_DIR } from '../../src/layout/boot-paths';
import { fillWatchScript, watchedLayers } from '../../src/union/fill-watch';
import { bootFake, liveMachine } from './fake-system';

const config = (cmdline: string) => mergeConfig(configFromCmdline(parseCmdline(cmdline)).values);
const bothMounted = (path: string): boolean => path === COW_DIR || path === MOUNTS_DIR;
const sources = (cmdline: string, mounted = bothMounted) => watchedLayers(config(cmdline), mounted).map((l) => [l.what, l.source]);

test('the union kind says where its changes fill RAM; persist= keeps them on a disk, overlay=none keeps none', () => {
  assert.equal(sources('root=/dev/vda overlay=overlayfs'), [
    ["the root's changes", { kind: 'tmpfs', path: COW_DIR }],
    ["the other filesystems' changes", { kind: 'tmpfs', path: MOUNTS_DIR }],
  ]);
  assert.equal(sources('root=/dev/vda overlay=dm cow=ram', (p) => p === COW_DIR), [["the root's snapshot", { kind: 'snapshot', name: 'cowboot-root' }]]);
  assert.equal(sources('root=/dev/vda overlay=unionfs persist=LABEL=keep'), [["the other filesystems' changes", { kind: 'tmpfs', path: MOUNTS_DIR }]]);
  assert.equal(sources('root=/dev/vda overlay=none'), [["the other filesystems' changes", { kind: 'tmpfs', path: MOUNTS_DIR }]]);
  assert.equal(sources('root=/dev/vda overlay=none', () => false), []);
});

test('the script: one check per layer, the steps and their re-arming from FILL_STEPS, dmsetup through its own loader', () => {
  const layers = watchedLayers(config('root=/dev/vda overlay=dm'), bothMounted);
  const script = fillWatchScript(layers, { bytes: 0, dmsetupLoader: { loader: '/run/initramfs/lib64/ld-linux-x86-64.so.2', libraryPath: '/run/initramfs/lib/x86_64-linux-gnu:/run/initramfs/usr/lib' } }, false);
  assert.match(script, /^ {2}check 0 'the root'\\''s snapshot' 'every write .*' usage_snapshot 'cowboot-root'$/m);
  assert.match(script, /^ {2}check 1 'the other filesystems'\\''s? changes' .* usage_tmpfs 'mounts'$/m);
  assert.match(script, /\$\(lib64\/ld-linux-x86-64\.so\.2 --library-path lib\/x86_64-linux-gnu:usr\/lib sbin\/dmsetup status /);
  for (const line of ['[ "$pct" -ge 80 ] && step=1', '[ "$pct" -ge 95 ] && step=2', '[ "$level" -ge 1 ] && [ "$pct" -lt 75 ] && level=0', '[ "$level" -ge 2 ] && [ "$pct" -lt 90 ] && level=1']) {
    assert.ok(script.includes(line), line);
  }
  assert.match(script, /^ {2}echo "cowboot: warning: \$1" >&3$/m, 'on the console by itself, where the kernel would not show it');
  assert.not.match(fillWatchScript(layers, { bytes: 0, dmsetupLoader: null }, true), />&3$/m, 'only in the kernel\'s log, where the kernel shows it on the console');
  assert.not.match(script, /(^|[\s$(])\/(?!dev\/|run\/initramfs\b)[a-z]/m, 'no path outside /dev and /run/initramfs: nothing walks a unionfs root after the start');
});

test('the handoff starts the watcher chrooted into the new root, after the moves, and says so; overlay=none with no other filesystem starts none', async () => {
  const sys = liveMachine('root=/dev/vda overlay=overlayfs');
  await bootFake(sys);
  const runs = sys.calls.filter((c) => c.startsWith('run ')).map((c) => c.slice(4));
  const start = runs.indexOf(`chroot /newroot /run/initramfs/bin/busybox sh ${FILL_WATCH}`);
  assert.ok(start > runs.indexOf('mount --move /run /newroot/run'), 'started after /run is in the new root');
  const script = sys.files.get(`/newroot${FILL_WATCH}`);
  assert.ok(script?.kind === 'file' && script.text.includes("usage_tmpfs 'cow'"));
  assert.ok(sys.files.has('/newroot/run/initramfs/bin/busybox'));
  assert.match(sys.console.join(''), /fill warnings: \/run\/initramfs\/fill-watch checks the root's changes and the other filesystems' changes every 10 s, and warns at 80%, 95%, 100%/);

  const bare = liveMachine('root=/dev/vda overlay=none mounts=fstab');
  await bootFake(bare);
  assert.not.ok(bare.calls.some((c) => c.includes('fill-watch')));
});

test.run();
