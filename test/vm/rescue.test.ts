// Boots that fail on purpose: each must end in the rescue shell (which must
// answer what the test types) or, with rd.shell=0, bring the VM down by
// itself; never in a kernel panic.

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestDisk, REPORTING_INIT } from '../../scripts/vm/guest';
import { SQUASHFS_COMPRESSIONS, squashRuntime } from '../../builder/runtime-image';
import { currentAssets } from '../../cli/assets';
import { DEFAULT_ICU } from '../../builder/icu';
import { buildImage, withRuntimeImage } from '../../scripts/vm/image';
import { VM_CACHE } from '../../scripts/vm/project';
import { type Booted, bootMedium } from './harness';

let image = '';
let disk = '';

test.before(() => {
  image = buildImage('cowboot');
  disk = makeGuestDisk('rescue', { init: REPORTING_INIT });
});

const PROMPT = /cowboot rescue shell[\s\S]*?# /;
const ANSWER = { waitFor: PROMPT, send: 'echo ANSWER-$((6*7))\n' };
const POWEROFF = { waitFor: /ANSWER-42[\s\S]*?# /, send: 'poweroff -f\n' };

function rescueBoot(name: string, append: string, { drive = disk, initrd = image } = {}): Promise<Booted> {
  return bootMedium({ name, image: initrd, medium: { disks: [drive] }, append, finishes: false, dialogue: [ANSWER, POWEROFF], timeoutMs: 150_000 });
}

function assertRescued({ result }: Booted): void {
  assert.not.ok(result.timedOut, `the rescue shell did not answer, see ${result.logFile}`);
  assert.match(result.console, /ANSWER-42/);
}

test('missing root device: waits rootdelay, lists the block devices seen, shell answers', async () => {
  const booted = await rescueBoot('rescue-no-root', 'root=/dev/vdz rootdelay=3');
  assertRescued(booted);
  assert.match(booted.console, /root device \/dev\/vdz did not appear within 3 s/);
  assert.match(booted.console, /hint: block devices seen: .*\bvda\b/);
  assert.match(booted.console, /Boot stopped in stage "root"/);
});

test('wrong rootfstype: the failed command, what the device looks like; exit retries the stage', async () => {
  const booted = await bootMedium({
    name: 'rescue-rootfstype',
    image,
    medium: { disks: [disk] },
    append: 'root=/dev/vda rootfstype=squashfs',
    finishes: false,
    dialogue: [ANSWER, { waitFor: /ANSWER-42[\s\S]*?# /, send: 'exit\n' }, { waitFor: /stage root: trying again[\s\S]*?cowboot rescue shell[\s\S]*?# /, send: 'poweroff -f\n' }],
    timeoutMs: 150_000,
  });
  assertRescued(booted);
  assert.match(booted.console, /command: mount -t squashfs -o ro \/dev\/vda \/run\/initramfs\/ro/);
  assert.match(booted.console, /hint: \/dev\/vda was mounted as squashfs \(rootfstype=\) and it looks like ext4; modules tried: squashfs; the kernel can mount: .*squashfs/);
});

test('missing init: the path looked for, before switch_root', async () => {
  const booted = await rescueBoot('rescue-no-init', 'root=/dev/vda init=/sbin/nope');
  assertRescued(booted);
  assert.match(booted.console, /init \/sbin\/nope not found in the new root: \/sbin\/nope does not exist/);
  assert.match(booted.console, /Boot stopped in stage "handoff"/);
});

test('unknown overlay=: names the valid values, before anything is mounted', async () => {
  const booted = await rescueBoot('rescue-overlay', 'root=/dev/vda overlay=aufs');
  assertRescued(booted);
  assert.match(booted.console, /command line: overlay=aufs is not valid: expected one of unionfs, dm, overlayfs, none/);
  assert.match(booted.console, /Boot stopped in stage "config"/);
  assert.not.match(booted.console, /EXT4-fs \(vda\): mounted/);
});

test('corrupt medium: no known filesystem, what the kernel can mount', async () => {
  const corrupt = join(VM_CACHE, 'corrupt.img');
  writeFileSync(corrupt, randomBytes(8 << 20));
  const booted = await rescueBoot('rescue-corrupt', 'root=/dev/vda', { drive: corrupt });
  assertRescued(booted);
  assert.match(booted.console, /no known filesystem on \/dev\/vda/);
  assert.match(booted.console, /hint: the kernel can mount: \S+/);
});

test('rd.break=union: a shell before the union, orphans are reaped, exit boots on', async () => {
  const booted = await bootMedium({
    name: 'rescue-break',
    image,
    medium: { disks: [disk] },
    append: 'root=/dev/vda rd.break=union',
    dialogue: [
      { waitFor: /rd\.break[\s\S]*?# /, send: "(sleep 1 &); sleep 4; echo ZOMBIES=$(cat /proc/[0-9]*/stat | awk '$3==\"Z\"' | wc -l)\n" },
      { waitFor: /ZOMBIES=\d+[\s\S]*?# /, send: 'exit\n' },
    ],
    timeoutMs: 150_000,
  });
  assert.match(booted.console, /Boot stopped before stage "union", as rd.break asked/);
  assert.match(booted.console, /ZOMBIES=0/);
});

test('rd.shell=0: no shell; the VM reboots by itself after panic= seconds', async () => {
  const booted = await bootMedium({ name: 'rescue-noshell', image, medium: { disks: [disk] }, append: 'root=/dev/vdz rootdelay=2 rd.shell=0 panic=2', finishes: false, timeoutMs: 120_000 });
  assert.not.ok(booted.result.timedOut, `the VM did not go down by itself, see ${booted.result.logFile}`);
  assert.match(booted.console, /rd.shell=0 allows no shell; reboot in 2 s/);
  assert.not.match(booted.console, /cowboot rescue shell/);
  assert.match(booted.console, /reboot: Restarting system/);
});

// The image with its runtime's squashfs replaced by random bytes: the first
// step (a shell script) finds it cannot mount it, before there is any Node.
function damagedRuntimeImage(): string {
  return withRuntimeImage(image, randomBytes(4 << 20), join(VM_CACHE, 'damaged-runtime.img'));
}

test('damaged runtime image: the first step names it, its shell answers, exit tries again', async () => {
  const damaged = damagedRuntimeImage();
  const booted = await bootMedium({
    name: 'rescue-runtime',
    image: damaged,
    medium: { disks: [disk] },
    append: 'root=/dev/vda',
    finishes: false,
    dialogue: [
      { waitFor: /before the runtime[\s\S]*?# /, send: 'echo ANSWER-$((6*7))\n' },
      { waitFor: /ANSWER-42[\s\S]*?# /, send: 'exit\n' },
      { waitFor: /before the runtime[\s\S]*?# /, send: 'poweroff -f\n' },
    ],
    timeoutMs: 150_000,
  });
  assertRescued(booted);
  // Both tries fail at the image itself: what the first one mounted is not mounted again.
  const reasons = booted.console.match(/^cowboot: [^\n]*; the runtime cannot start/gm) ?? [];
  assert.is(reasons.length, 2, reasons.join('\n'));
  assert.ok(reasons.every((r) => r.includes('could not mount the runtime image')), reasons.join('\n'));
  assert.match(booted.console, /cowboot: could not mount the runtime image \/lib\/cowboot\/runtime.squashfs on \/usr\/lib\/cowboot\/runtime \(it may be damaged: rebuild the image\); the runtime cannot start/);
  assert.not.match(booted.console, /Kernel panic/);
});

test('damaged runtime image with rd.shell=0: no shell; the VM reboots by itself', async () => {
  const booted = await bootMedium({ name: 'rescue-runtime-noshell', image: damagedRuntimeImage(), medium: { disks: [disk] }, append: 'root=/dev/vda rd.shell=0 panic=2', finishes: false, timeoutMs: 120_000 });
  assert.not.ok(booted.result.timedOut, `the VM did not go down by itself, see ${booted.result.logFile}`);
  assert.match(booted.console, /rd.shell=0 or a rescue password allows no shell; reboot in 2 s/);
  assert.not.match(booted.console, /cowboot rescue shell/);
  assert.match(booted.console, /reboot: Restarting system/);
});

// A runtime image that mounts, holding a Node cut short as an interrupted
// copy leaves it: the exec would take PID 1 down with a panic.
function truncatedRuntimeImage(): string {
  const node = currentAssets().runtimeBinary('node', DEFAULT_ICU, () => {}).path;
  const truncated = join(VM_CACHE, 'truncated-node');
  writeFileSync(truncated, readFileSync(node).subarray(0, 8 << 20), { mode: 0o755 });
  const squashfs = join(VM_CACHE, 'truncated-node.squashfs');
  squashRuntime(truncated, 'node', squashfs, SQUASHFS_COMPRESSIONS.zstd.mksquashfs);
  return withRuntimeImage(image, readFileSync(squashfs), join(VM_CACHE, 'truncated-runtime.img'));
}

test('runtime that dies as it starts: checked before the exec, a shell instead of a panic', async () => {
  const booted = await rescueBoot('rescue-runtime-truncated', 'root=/dev/vda', { initrd: truncatedRuntimeImage() });
  assertRescued(booted);
  assert.match(booted.console, /cowboot rescue shell \(before the runtime\)/);
  assert.match(booted.console, /cowboot: the runtime \/usr\/bin\/node does not start: its --version ended with status \d+ \(it may be damaged: rebuild the image\); the runtime cannot start/);
  assert.not.match(booted.console, /Kernel panic/);
});

test.run();
