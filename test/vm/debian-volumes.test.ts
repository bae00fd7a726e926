// Debian 13 (systemd) frozen on each layout installers make besides plain
// partitions: Debian's "set up LVM" and "set up encrypted LVM" (the
// passphrase typed at the console), a LUKS2 partition, RAID1 whole and
// degraded, btrfs with the root and /home in subvolumes, xfs. The
// layouts' own units run in the booted system (lvm2's,
// systemd-cryptsetup's, mdadm's monitor); it must reach "running" with no
// failed unit, see every volume of the user's read-only, write only to RAM,
// and power off with every disk (PVs, RAID members, LUKS headers) unchanged.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type DebianLayout, LAYOUT_IDS, LAYOUT_NAMES, type LayoutDisks, layoutDisks } from '../../scripts/vm/debian-layouts';
import { volumesImage } from '../../scripts/vm/volume-disks';
import { eventsIn } from '../../src/core/events';
import { bootMedium, type Booted } from './harness';

type Union = 'overlayfs' | 'dm';

let image = '';
test.before(() => {
  image = volumesImage();
});

const table: string[] = [];
test.after(() => {
  console.log(['', '| Debian 13 on | union | end of boot (s) | assembly (ms) | disks unchanged |', '|---|---|---|---|---|', ...table].join('\n'));
});

const LUKS = new RegExp(`/dev/vda1 \\(LUKS UUID=${LAYOUT_IDS.luksUuid}\\) opened read-only as /dev/mapper/luks-${LAYOUT_IDS.luksUuid}`);
const RENAMED = /\/etc\/crypttab: \/dev\/mapper\/luks-[\w-]+ renamed vda1_crypt, as the booted system names it/;
const userDm = (booted: Booted) => booted.report('dm').filter((l) => !l.startsWith('cowboot-'));
const LVS = ['debian--vg-home ro=1', 'debian--vg-root ro=1', 'debian--vg-swap_1 ro=1'];

// What each layout shows besides what every one must.
const CHECKS: Record<DebianLayout, (booted: Booted, union: Union) => void> = {
  lvm: (booted) => {
    assert.match(booted.console, /LVM: debian-vg\/\w+(, debian-vg\/\w+)* active, read-only/);
    assert.equal(userDm(booted).sort(), LVS);
  },
  'encrypted-lvm': (booted) => {
    assert.match(booted.console, LUKS);
    assert.match(booted.console, RENAMED);
    assert.match(booted.console, /\/etc\/crypttab: cryptswap is left shut \(swap: the booted system would format \/dev\/vdb as it opens it\); \/dev\/vdb set read-only/);
    assert.equal(booted.report('vdb-ro'), ['1']);
    assert.equal(userDm(booted).sort(), [...LVS, 'vda1_crypt ro=1']);
  },
  luks: (booted) => {
    assert.match(booted.console, LUKS);
    assert.match(booted.console, RENAMED);
    assert.equal(userDm(booted), ['vda1_crypt ro=1']);
  },
  raid1: (booted) => {
    assert.equal(booted.report('md'), ['readonly degraded=0']);
    assert.match(booted.console, new RegExp(`RAID ${LAYOUT_IDS.raidUuid}: assembled read-only from /dev/vda, /dev/vdb`));
  },
  'raid1-degraded': (booted) => {
    assert.equal(booted.report('md'), ['readonly degraded=1']);
    assert.match(booted.console, new RegExp(`RAID ${LAYOUT_IDS.raidUuid}: 1 of its 2 devices are in it \\(/dev/vda\\), so it is started degraded, read-only; nothing is resynced`));
  },
  btrfs: (booted, union) => {
    assert.match(booted.console, union === 'dm' ? /\/home: on the root's filesystem \(\/dev\/vda\), so mounted from \/dev\/mapper\/cowboot-root/ : /\/home: \/dev\/vda \(btrfs\) read-only under a RAM overlay/);
  },
  xfs: (booted, union) => {
    const replay = /\/dev\/vda \(xfs\): xfs keeps no clean flag, so its log may need replaying, so it is mounted from \/dev\/mapper\/cowboot-replay-vda/;
    // Under dm the root's own snapshot takes the replay.
    if (union === 'overlayfs') assert.match(booted.console, replay);
    else assert.not.match(booted.console, replay);
  },
};

/** What every layout must show: bootMedium has already checked every disk unchanged. */
function assertFrozen(booted: Booted, layout: LayoutDisks, union: Union): void {
  assert.equal(booted.report('state'), ['running'], booted.report('failed').join(' '));
  assert.equal(booted.report('rootfs'), [union === 'dm' ? layout.fsType : 'overlay']);
  assert.equal(booted.report('root-write'), ['ok']);
  assert.equal(booted.report('swaps'), ['0']);
  if (layout.home) {
    // An LV of its own gets its own RAM overlay under either union; a subvolume under dm comes from the root's snapshot.
    assert.equal(booted.report('home'), [union === 'dm' && layout.home === 'subvolume' ? 'btrfs' : 'overlay']);
    assert.equal(booted.report('owner'), ['alice']);
    assert.equal(booted.report('home-write'), ['ok']);
  } else {
    assert.equal(booted.report('home'), []);
  }
  for (const line of userDm(booted)) assert.match(line, / ro=1$/, line);
  if (layout.passphrase) assert.ok(!booted.console.includes(layout.passphrase), 'the passphrase was echoed or logged');
}

// Each layout under one union, both unions among the layouts, and both
// where the union changes what the layout does: under dm, btrfs's /home
// subvolume comes from the root's snapshot, and xfs needs no replay device.
// The union over a block device is the same whatever assembled it, and a
// Debian boot is most of a minute of npm test's 60.
const UNIONS: Record<DebianLayout, readonly Union[]> = {
  lvm: ['overlayfs'],
  'encrypted-lvm': ['dm'],
  luks: ['overlayfs'],
  raid1: ['dm'],
  'raid1-degraded': ['overlayfs'],
  btrfs: ['overlayfs', 'dm'],
  xfs: ['overlayfs', 'dm'],
};

for (const layout of Object.keys(CHECKS) as DebianLayout[]) {
  for (const union of UNIONS[layout]) {
    test(`Debian 13 on ${LAYOUT_NAMES[layout]}, overlay=${union}: running with no failed unit, the user's volumes read-only, writes in RAM, every disk unchanged`, async () => {
      const disks = layoutDisks(layout);
      const booted = await bootMedium({
        name: `debian-${layout}-${union}`,
        image,
        medium: { disks: disks.disks },
        append: `${disks.append} overlay=${union}`,
        dialogue: disks.passphrase ? [{ waitFor: /Passphrase for \S+ \(LUKS UUID=[^)]+\): /, send: `${disks.passphrase}\n` }] : [],
        timeoutMs: 400_000,
      });
      const assembly = eventsIn(booted.console, 'volumes-assembled').reduce((ms, e) => ms + e.ms, 0);
      table.push(`| ${LAYOUT_NAMES[layout]} | ${union} | ${booted.report('uptime')[0] ?? '?'} | ${assembly} | yes |`);
      assertFrozen(booted, disks, union);
      CHECKS[layout](booted, union);
    });
  }
}

test.run();
