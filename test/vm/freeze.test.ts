// A real installed Debian, frozen: roots made with mmdebstrap from Debian's
// packages, one with systemd and one with sysvinit, each with an installer's
// fstab and a data partition and swap on a second disk, booted on trixie
// (stable, kernel 6.12) and on bookworm (oldstable, 6.1) with each
// release's own kernel (MATRIX says which init in which union); a probe at
// the end of boot reports and asks its init to power off. No disk may
// change.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEBIAN_UUIDS, type DebianDisks, type DebianInit, makeDebianDisks } from '../../scripts/vm/debian';
import { buildImage } from '../../scripts/vm/image';
import { type DebianRelease, testKernel } from '../../scripts/vm/kernel';
import { type Booted, bootMedium } from './harness';

const POWEROFF_LIMIT_S = 60;
const RELEASES = ['trixie', 'bookworm'] as const;
const INITS = ['systemd', 'sysvinit'] as const;
const UNIONS = ['unionfs', 'overlayfs', 'dm'] as const;
const ROOTFS = { unionfs: 'fuse.unionfs', overlayfs: 'overlay', dm: 'ext4' } as const;
// What an init prints when storage goes wrong at boot or at shutdown.
const STORAGE_TROUBLE = /fsck exited with status|Give root password|\[FAILED\]|failed\.|Failed unmounting|target is busy/m;

// Each release's kernel, with the image built for it.
const images = new Map<DebianRelease, string>();
const disks = new Map<string, DebianDisks>();
const table: string[] = [];

test.before(() => {
  for (const release of RELEASES) {
    images.set(release, buildImage(release === 'trixie' ? 'cowboot' : `cowboot-${release}`, [], release));
    for (const init of INITS) disks.set(`${release}-${init}`, makeDebianDisks(init, release));
  }
});

test.after(() => {
  console.log(['', '| release | init | union | end of boot | failed units | power-off (s) | disks unchanged |', '|---|---|---|---|---|---|---|', ...table].join('\n'));
});

/** Seconds from the probe's power-off request to the kernel powering down. */
function poweroffSeconds(console: string): number | null {
  const asked = /^GUEST poweroff-at=([\d.]+)/m.exec(console);
  const down = /\[\s*(\d+\.\d+)\] reboot: Power down/.exec(console);
  return asked?.[1] && down?.[1] ? Number(down[1]) - Number(asked[1]) : null;
}

/** `writes`: the second disk is written, as mounts=fstab and swap ask; the root never is. */
async function frozenBoot(init: DebianInit, name: string, append: string, writes = false, release: DebianRelease = 'trixie'): Promise<{ booted: Booted; poweroff: number }> {
  const d = disks.get(`${release}-${init}`)!;
  const booted = await bootMedium({ name, image: images.get(release)!, kernel: testKernel(release).vmlinuz, medium: { disks: [d.root, d.second] }, append: `root=UUID=${DEBIAN_UUIDS.root} ${append}`, writes: writes ? [d.second] : [], timeoutMs: 300_000 });
  const poweroff = poweroffSeconds(booted.console);
  assert.ok(poweroff !== null && poweroff < POWEROFF_LIMIT_S, `power-off not reached within ${POWEROFF_LIMIT_S} s of the probe's request (${poweroff}), see ${booted.result.logFile}`);
  return { booted, poweroff };
}

// npm test's 60 minutes do not hold all twelve boots and the rest, at most
// of a minute each. Trixie's systemd (257), the first target, in every
// union. Every init's shutdown with unionfs, whose FUSE daemon the init
// must spare (a hang there is what these boots have caught). Bookworm's
// systemd (252) in the default union too, and sysvinit, whose boot the
// releases share, in the default union on bookworm and in dm on trixie.
// The tests below add trixie's sysvinit in overlayfs (mounts=fstab), and
// dm on bookworm (a full COW; trixie's kernel on a full COW is union.test's).
const MATRIX: readonly { release: DebianRelease; init: DebianInit; overlay: (typeof UNIONS)[number] }[] = [
  ...UNIONS.map((overlay) => ({ release: 'trixie', init: 'systemd', overlay }) as const),
  { release: 'trixie', init: 'sysvinit', overlay: 'unionfs' },
  { release: 'trixie', init: 'sysvinit', overlay: 'dm' },
  { release: 'bookworm', init: 'systemd', overlay: 'unionfs' },
  { release: 'bookworm', init: 'systemd', overlay: 'overlayfs' },
  { release: 'bookworm', init: 'sysvinit', overlay: 'overlayfs' },
];

for (const { release, init, overlay } of MATRIX) {
  test(`${release}, ${init}, overlay=${overlay}: boots to its end with no storage failure, /data in RAM, no swap, powers off, no disk written`, async () => {
    const { booted, poweroff } = await frozenBoot(init, `freeze-${release}-${init}-${overlay}`, `overlay=${overlay} quiet`, false, release);
    const end = init === 'systemd' ? booted.report('state')[0] : booted.report('runlevel')[0];
    const failed = init === 'systemd' ? (booted.report('failed')[0] ?? '').trim() : '';
    table.push(`| ${release} | ${init} | ${overlay} | ${end} | ${failed || 'none'} | ${poweroff.toFixed(1)} | yes |`);
    if (init === 'systemd') {
      assert.is(end, 'running');
      assert.is(failed, '', 'no unit failed');
      // systemd's INITRD_INTERFACE: /run as it was handed over (strictatime shows as no atime flag at all).
      assert.match(booted.report('run')[0] ?? '', /^rw,nosuid,nodev,mode=755/);
    } else {
      assert.is(end, 'N 5', 'sysvinit reached runlevel 5');
    }
    assert.not.match(booted.console, STORAGE_TROUBLE, `an init reported a storage failure, see ${booted.result.logFile}`);
    assert.equal(booted.report('rootfs'), [ROOTFS[overlay]]);
    assert.match(booted.report('data')[0] ?? '', /^overlay rw,.*lowerdir=\/run\/initramfs\/mounts\/data\/ro/, '/data is under a RAM overlay');
    assert.equal(booted.report('swaps'), ['0'], 'no swap is active');
    assert.equal(booted.report('root-write'), ['ok']);
    assert.equal(booted.report('data-write'), ['ok']);
    assert.equal(booted.report('data-file'), ['data-partition']);
    assert.equal(booted.report('initrd-release'), [], 'nothing that marks an initrd is in the new root');
    assert.equal(booted.report('fsck-root'), ['present']);
    assert.equal(booted.report('daemon-oom'), overlay === 'unionfs' ? ['-1000'] : []);
  });
}

// With unionfs: one more systemd + unionfs shutdown.
test('systemd, mounts=ro: /data read-only from its own device, writes to it refused, nothing else changes', async () => {
  const { booted } = await frozenBoot('systemd', 'freeze-mounts-ro', 'overlay=unionfs mounts=ro quiet');
  assert.is(booted.report('state')[0], 'running');
  assert.match(booted.report('data')[0] ?? '', /^ext4 ro,/);
  assert.equal(booted.report('data-write'), []);
  assert.equal(booted.report('data-file'), ['data-partition']);
});

// Last of the sysvinit boots: this one writes its second disk.
test('sysvinit, mounts=fstab swap: /data and swap as the fstab says, so the second disk is written and the root is not', async () => {
  const { booted } = await frozenBoot('sysvinit', 'freeze-mounts-fstab', 'overlay=overlayfs mounts=fstab swap quiet', true);
  assert.match(booted.report('data')[0] ?? '', /^ext4 rw,/);
  assert.equal(booted.report('swaps'), ['1']);
  assert.equal(booted.report('data-write'), ['ok']);
  assert.not.match(booted.console, STORAGE_TROUBLE);
});

// Linux 6.1 (bookworm): ext4 on a full snapshot remounts read-only and reads go on.
test('bookworm, systemd, overlay=dm with a full COW: the writer gets an error and returns, later writes are refused, the system powers off', async () => {
  const { booted } = await frozenBoot('systemd', 'freeze-bookworm-dm-full', 'overlay=dm cowsize=64M probe.fill quiet', false, 'bookworm');
  assert.match(booted.console, /Snapshot overflowed/);
  assert.equal(booted.report('fill-status'), ['1'], 'dd failed and returned (124 would be a writer hung until timeout killed it)');
  assert.match(booted.report('after-fill')[0] ?? '', /^frozen-systemd .*Read-only file system/, 'reads go on; new writes are refused at once');
});

// The fill warnings' watcher in a real root, with systemd's journal: cowboot's RAM layer past 80%.
test("trixie, systemd, overlayfs: the root's changes past 80% of cowsize=160M, the warning in the journal (journalctl -k)", async () => {
  const { booted } = await frozenBoot('systemd', 'freeze-fill-warning', 'overlay=overlayfs cowsize=160M probe.fillto=128 quiet');
  const journal = booted.report('fill-journal');
  assert.is(journal.length, 1, `one warning, see ${booted.result.logFile}`);
  assert.match(journal[0] ?? '', /^warning: the root's changes: (8\d|9[0-4])% full \(1[3-5]\d\.\d MiB of 160\.0 MiB in RAM\); when full, writes to the root fail/);
});

test.run();
