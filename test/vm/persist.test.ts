// persist=: changes kept across boots on a real Debian, in each union kind.
// A probe at the end of each boot reports the marks earlier boots left in
// /var/lib/cowboot-marks, adds its own (probe.mark=), and powers off or
// reboots as a user would. Between boots the layer's filesystem is checked
// with fsck -n from the host: a clean shutdown leaves nothing to repair.

import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEBIAN_UUIDS, type DebianDisks, makeDebianDisks } from '../../scripts/vm/debian';
import { buildImage } from '../../scripts/vm/image';
import { VM_CACHE } from '../../scripts/vm/project';
import { type Booted, bootMedium } from './harness';

let image = '';
let systemd: DebianDisks;
let sysvinit: DebianDisks;
const table: string[] = [];

test.before(() => {
  image = buildImage('cowboot');
  systemd = makeDebianDisks('systemd');
  sysvinit = makeDebianDisks('sysvinit');
});

test.after(() => {
  console.log(['', '| init | union | layer | boots | marks seen | fsck after each shutdown |', '|---|---|---|---|---|---|', ...table].join('\n'));
});

/** An empty ext4 filesystem on a whole disk, labelled keep. */
function ext4Disk(name: string): string {
  const disk = join(VM_CACHE, `${name}.ext4`);
  rmSync(disk, { force: true });
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-L', 'keep', disk, '128M']);
  return disk;
}

/** A FAT stick (no partition table, as many are) holding an empty 128 MiB file for a snapshot store. */
function fatStick(name: string): string {
  const disk = join(VM_CACHE, `${name}.vfat`);
  const store = join(VM_CACHE, `${name}-store.cow`);
  rmSync(disk, { force: true });
  execFileSync('mkfs.vfat', ['-C', '-n', 'STICK', disk, String(256 * 1024)], { stdio: 'ignore' });
  writeFileSync(store, Buffer.alloc(128 * 1024 * 1024));
  execFileSync('mcopy', ['-i', disk, store, '::/cowboot.cow']);
  rmSync(store, { force: true });
  return disk;
}

/** fsck -n of the layer's filesystem: 'clean', or in one line what it found. */
function fsck(disk: string): string {
  const [tool, args] = disk.endsWith('.vfat') ? ['fsck.vfat', ['-n', disk]] : ['e2fsck', ['-fn', disk]];
  const result = spawnSync(tool, args as string[], { encoding: 'utf8' });
  const out = result.stdout + result.stderr;
  if (result.status === 0 && !/dirty|recover/i.test(out)) return 'clean';
  // One line for the table: what a user would have to do about it.
  if (/journal recovery/.test(out)) return 'journal to replay';
  if (/dirty bit/i.test(out)) return 'dirty bit set';
  return `status ${result.status}: ${out.trim().split('\n').slice(-1)[0]}`;
}

async function keptBoot(name: string, disks: DebianDisks, layer: string, append: string, writes = true): Promise<Booted> {
  return bootMedium({
    name,
    image,
    medium: { disks: [disks.root, disks.second, layer] },
    append: `root=UUID=${DEBIAN_UUIDS.root} ${append}`,
    writes: writes ? [layer] : [],
    timeoutMs: 300_000,
  });
}

/** Boots with marks one, two…; each boot sees the marks before it, and the layer is clean after each. */
async function keptAcross(init: 'systemd' | 'sysvinit', overlay: string, layer: string, persist: string, boots: number, extra = ''): Promise<Booted[]> {
  const disks = init === 'systemd' ? systemd : sysvinit;
  const booted: Booted[] = [];
  const checks: string[] = [];
  const marks = ['one', 'two', 'three'];
  for (let i = 0; i < boots; i++) {
    const b = await keptBoot(`persist-${init}-${overlay}-${i + 1}`, disks, layer, `overlay=${overlay} persist=${persist} probe.mark=${marks[i]} ${extra}`);
    assert.equal(b.report('marks'), [marks.slice(0, i).map((m) => `${m} `).join('')], `boot ${i + 1} sees the marks of the boots before it, see ${b.result.logFile}`);
    checks.push(fsck(layer));
    booted.push(b);
  }
  table.push(`| ${init} | ${overlay} | ${persist} | ${boots} | ${booted.map((b) => JSON.stringify(b.report('marks')[0]?.trim() ?? '')).join(', ')} | ${checks.join(', ')} |`);
  if (init === 'systemd') assert.equal(checks, checks.map(() => 'clean'), `the layer's filesystem after each shutdown: ${checks.join('; ')}`);
  return booted;
}

let overlayfsLayer = '';

test('systemd, overlayfs: a write survives power-off, the layer ends clean after each shutdown, the shutdown return says so', async () => {
  overlayfsLayer = ext4Disk('persist-overlayfs');
  const [first, second] = await keptAcross('systemd', 'overlayfs', overlayfsLayer, 'LABEL=keep', 2);
  assert.match(first!.console, /persist: changes go to \/run\/initramfs\/persist\/cowboot-layer on \/dev\/vdc \(ext4\), a new layer/);
  assert.match(second!.console, /cowboot-layer on \/dev\/vdc \(ext4\), kept from earlier boots/);
  const ram = /shutdown return: \/run\/initramfs\/shutdown .* keeps ([\d.]+ MiB) in RAM/.exec(first!.console);
  assert.ok(ram, 'the RAM the shutdown return keeps is logged');
  console.log(`  shutdown return keeps ${ram[1]} in RAM (overlayfs)`);
  for (const b of [first!, second!]) {
    assert.match(b.report('persist')[0] ?? '', /^\/dev\/vdc ext4 rw/);
    assert.equal(b.report('shutdown-return'), ['present']);
    assert.match(b.console, /cowboot-shutdown: vdc unmounted clean/);
    assert.match(b.console, /reboot: Power down/);
  }
});

test('a layer made over another root is refused with the reason, left as it was, and the boot goes on in RAM', async () => {
  const b = await keptBoot('persist-foreign', sysvinit, overlayfsLayer, 'overlay=overlayfs persist=LABEL=keep probe.mark=foreign', false);
  assert.match(b.console, /persist=LABEL=keep: the layer is not this root's: it was made over this root \(ext4 LABEL=debian-root UUID=0d1e2b3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b, 768M\) before the root changed/);
  assert.match(b.console, /this boot keeps its changes in RAM/);
  assert.equal(b.report('marks'), [''], 'the kept marks are not seen');
  assert.equal(b.report('persist'), []);
  assert.equal(b.report('rootfs'), ['overlay']);
});

test('persist.reset starts the layer over, and the next boot keeps it as this root\'s', async () => {
  const b = await keptBoot('persist-reset', systemd, overlayfsLayer, 'overlay=overlayfs persist=LABEL=keep persist.reset probe.mark=after-reset');
  assert.match(b.console, /persist\.reset: the kept layer on \/dev\/vdc was removed; it starts empty/);
  assert.equal(b.report('marks'), ['']);
  assert.match(b.report('persist')[0] ?? '', /^\/dev\/vdc ext4 rw/);
  assert.is(fsck(overlayfsLayer), 'clean');
  const again = await keptBoot('persist-after-reset', systemd, overlayfsLayer, 'overlay=overlayfs persist=LABEL=keep quiet');
  assert.equal(again.report('marks'), ['after-reset ']);
});

test('systemd, unionfs: a write survives a reboot, the layer ends clean', async () => {
  const layer = ext4Disk('persist-unionfs');
  const [first] = await keptAcross('systemd', 'unionfs', layer, 'LABEL=keep', 2, 'probe.reboot quiet');
  assert.match(first!.console, /reboot: Restarting system/);
});

test('systemd, dm: the snapshot store in an image file on a FAT stick, kept across power-off; the stick ends clean', async () => {
  const stick = fatStick('persist-dm');
  const [first] = await keptAcross('systemd', 'dm', stick, 'LABEL=STICK:/cowboot.cow', 2);
  const ram = /shutdown return: .* keeps ([\d.]+ MiB) in RAM/.exec(first!.console);
  console.log(`  shutdown return keeps ${ram?.[1]} in RAM (dm, with dmsetup)`);
  assert.match(first!.console, /persist: the snapshot's changes go to \/dev\/loop\d past its first MiB, a new store/);
  assert.equal(first!.report('rootfs'), ['ext4']);
});

test('sysvinit, overlayfs: a write survives power-off without a shutdown return (best effort: synced, replayed from the journal)', async () => {
  const layer = ext4Disk('persist-sysvinit');
  await keptAcross('sysvinit', 'overlayfs', layer, 'LABEL=keep', 2, 'quiet');
});

test.run();
