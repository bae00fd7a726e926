// The fill warnings, on the real kernel: a busybox root fills its RAM layer
// past each step, and the watcher that /init started says so once per step
// on the console and in the kernel's log, and again after the layer was
// emptied. overlayfs measures its COW tmpfs; dm asks dmsetup about the
// snapshot. A Debian root's journal is freeze.test's.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { FILL_CHECK_SECONDS } from '../../src/union/fill';
import { bootMedium } from './harness';

// A check's period and a little: time for the watcher to see what was written.
const SETTLE_S = FILL_CHECK_SECONDS + 2;

// fill.a and fill.b: MiB written in the first and second fill; with fill.b=0
// only the first, and one more check to show that it is not said twice.
const FILLING_INIT = `#!/bin/sh
param() { sed -n "s/.*$1=\\([0-9]*\\).*/\\1/p" /proc/cmdline; }
warnings() { dmesg | grep -c 'cowboot: warning'; }
# Waits for the count of warnings to reach $1, for two checks at most; then one more check.
settle() {
  n=0
  while [ "$(warnings)" -lt "$1" ] && [ $n -lt ${2 * SETTLE_S} ]; do sleep 1; n=$((n + 1)); done
  sleep ${SETTLE_S}
}
fill() { dd if=/dev/zero of="$1" bs=1M count="$2" 2>/dev/null; sync; }
a=$(param fill.a)
b=$(param fill.b)
echo "GUEST watcher=$(ps | grep -c '[f]ill-watch')"
fill /fill-a "$a"
settle 1
echo "GUEST after-first=$(warnings)"
if [ "$b" != 0 ]; then
  fill /fill-b "$b"
  settle 2
  echo "GUEST after-second=$(warnings)"
  rm /fill-a /fill-b
  sleep ${SETTLE_S}
  fill /fill-a "$a"
  settle 3
  echo "GUEST after-refill=$(warnings)"
fi
dmesg | sed -n 's/^\\[[^]]*\\] cowboot: warning: /GUEST warning=/p'
echo "GUEST done"
poweroff -f
`;

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('fill-warnings', { init: FILLING_INIT });
});

const boot = (name: string, append: string) => bootMedium({ name, image, medium: { disks: [disk] }, append: `root=/dev/vda ${append}`, timeoutMs: 300_000 });

test('overlay=overlayfs cowsize=40M: one warning past 80%, one past 95%, none repeated; emptied and filled again, 80% is said again', async () => {
  const booted = await boot('fill-overlayfs', 'overlay=overlayfs cowsize=40M fill.a=34 fill.b=5');
  assert.match(booted.console, /fill warnings: \/run\/initramfs\/fill-watch checks the root's changes and the other filesystems' changes every 10 s, and warns at 80%, 95%, 100%/);
  assert.equal(booted.report('watcher'), ['1'], 'the watcher outlived switch_root');
  assert.equal([booted.report('after-first'), booted.report('after-second'), booted.report('after-refill')], [['1'], ['2'], ['3']]);
  const [first, second, refill] = booted.report('warning');
  const full = 'when full, writes to the root fail with "No space left on device", and reads go on';
  assert.match(first ?? '', new RegExp(`^the root's changes: 8[5-9]% full \\(3[4-5]\\.\\d MiB of 40\\.0 MiB in RAM\\); ${full}$`));
  assert.match(second ?? '', /^the root's changes: 9[7-9]% full \(3[89]\.\d MiB of 40\.0 MiB in RAM\)/);
  assert.match(refill ?? '', /^the root's changes: 8[5-9]% full/);
  // Without quiet the kernel shows its record on the console, and the watcher writes nothing more there.
  assert.match(booted.console, /^\[\s*[\d.]+\] cowboot: warning: the root's changes: 9[7-9]% full/m);
  assert.not.match(booted.console, /^cowboot: warning: /m, 'not said twice on the console');
});

test('overlay=dm cow=ram cowsize=40M quiet: the snapshot past 80%, measured by dmsetup, said once; on the console by the watcher, as quiet keeps the kernel from it', async () => {
  const booted = await boot('fill-dm', 'overlay=dm cow=ram cowsize=40M fill.a=33 fill.b=0 quiet');
  assert.match(booted.console, /^cowboot: warning: the root's snapshot: (8\d|9[0-4])% full/m);
  assert.equal(booted.report('after-first'), ['1']);
  assert.equal(booted.report('warning').length, 1);
  assert.match(booted.report('warning')[0] ?? '', /^the root's snapshot: (8\d|9[0-4])% full \(3\d\.\d MiB of 40\.0 MiB in RAM\); when full, every write to the root fails with an I\/O error/);
});

test.run();
