// What real machines bring: a root whose journal needs replaying (the power
// was cut), a memory hog, and kernel parameters set for other tools. Each
// must boot, keep the medium unchanged, and never panic.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { dirtyJournal, makeGuestDisk, REPORTING_INIT } from '../../scripts/vm/guest';
import { buildImage } from '../../scripts/vm/image';
import { type Booted, bootMedium } from './harness';

let image = '';
let dirty = '';
let reporting = '';

test.before(() => {
  image = buildImage('cowboot');
  dirty = makeGuestDisk('dirty-journal', {
    init: `#!/bin/sh
echo "GUEST rootfs=$(awk '$2=="/"{t=$3} END{print t}' /proc/mounts)"
echo "GUEST journal-test=$(cat /journal-test)"
if echo written > /guest-was-here 2>/dev/null; then echo "GUEST writable=yes"; else echo "GUEST writable=no"; fi
echo "GUEST done"
poweroff -f
`,
    files: { '/journal-test': 'state=before\n' },
  });
  dirtyJournal(dirty, '/journal-test', 'state=replay\n');
  reporting = makeGuestDisk('mishaps', { init: REPORTING_INIT });
});

const diskBoot = (name: string, drive: string, append: string): Promise<Booted> => bootMedium({ name, image, medium: { disks: [drive] }, append: `root=/dev/vda ${append}` });

for (const overlay of ['unionfs', 'overlayfs', 'dm'] as const) {
  test(`a journal that needs replaying, overlay=${overlay}: replayed into RAM, the medium unchanged`, async () => {
    const booted = await diskBoot(`dirty-journal-${overlay}`, dirty, `overlay=${overlay}`);
    assert.equal(booted.report('journal-test'), ['state=replay'], 'the journal was replayed (noload would show state=before)');
    assert.equal(booted.report('writable'), ['yes']);
    if (overlay !== 'dm') assert.match(booted.console, /was not cleanly unmounted: its journal needs replaying; the replay goes into RAM/);
  });
}

test('overlay=unionfs, tmpfs full, then a memory hog: the hog is killed, the root stays, no panic', async () => {
  const hog = makeGuestDisk('memory-hog', {
    init: `#!/bin/sh
mkdir -p /dev/shm && mount -t tmpfs -o size=100% shm /dev/shm
dd if=/dev/zero of=/dev/shm/fill bs=1M count=300 2>/dev/null
dd if=/dev/zero of=/in-the-union bs=1M count=200 2>/dev/null
for c in $(grep -ls '^@unionfs' /proc/[0-9]*/cmdline); do echo "GUEST daemon-oom=$(cat "\${c%/cmdline}/oom_score_adj")"; done
awk 'BEGIN { s = "x"; for (;;) s = s s }'
echo "GUEST hog-status=$?"
echo "GUEST after=$(cat /etc/motd) $(echo still > /after && cat /after)"
echo "GUEST done"
poweroff -f
`,
    files: { '/etc/motd': 'readable' },
  });
  const booted = await diskBoot('memory-hog', hog, 'overlay=unionfs');
  assert.equal(booted.report('daemon-oom'), ['-1000']);
  assert.match(booted.console, /Out of memory: Killed process \d+ \(awk\)/);
  assert.equal(booted.report('hog-status'), ['137'], 'the hog was killed');
  assert.equal(booted.report('after'), ['readable still'], 'the root still reads and writes');
});

test('kernel parameters set for debugging or for other tools do not break the boot', async () => {
  const params = 'printk.devkmsg=on loglevel=3 ro rw systemd.log_level=debug rd.luks=0 rd.lvm=0 rd.md=0 rd.live.image init=/sbin/init -- 3';
  const booted = await diskBoot('kernel-params', reporting, `overlay=unionfs ${params}`);
  assert.equal(booted.report('pid'), ['1 args=3'], 'init gets the arguments after --');
  assert.equal(booted.report('rootfs'), ['fuse.unionfs'], 'rw is for overlay=none and is ignored here');
  assert.not.match(booted.console, /stage \S+ failed/);
});

test.run();
