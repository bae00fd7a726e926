// docs/live-media.md's worked example, run as written: it builds a live CD, and the
// CD boots from its own boot loader, as does the same file on a USB stick.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeGuestTree, REPORTING_INIT } from '../../scripts/vm/guest';
import { testKernel } from '../../scripts/vm/kernel';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';
import { bootMedium } from './harness';

function readmeExample(): string {
  const readme = readFileSync(join(PROJECT_DIR, 'docs', 'live-media.md'), 'utf8');
  const block = /<!-- live-cd-example:start -->\n```sh\n([\s\S]*?)```\n<!-- live-cd-example:end -->/.exec(readme);
  if (!block?.[1]) throw new Error('the live-CD example is missing from docs/live-media.md');
  return block[1];
}

test('the documented example makes a live CD that boots with cowboot, from a CD and from a USB stick', async () => {
  const kernel = testKernel();
  // The example's root: a tree like any other, here the reporting busybox root.
  const tree = makeGuestTree('live-cd', { init: REPORTING_INIT });
  const iso = join(VM_CACHE, 'my-live.iso');
  const output = execFileSync('bash', ['-c', readmeExample()], {
    cwd: PROJECT_DIR,
    encoding: 'utf8',
    env: { ...process.env, VER: kernel.version, VMLINUZ: kernel.vmlinuz, KMODDIR: kernel.kmoddir, ROOTFS: tree, COWBOOT: PROJECT_DIR, ISO: iso },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  assert.match(output, `made ${iso}`);
  const files = execFileSync('xorriso', ['-indev', iso, '-find', '/', '-type', 'f'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  for (const path of ['/live/filesystem.squashfs', '/boot/vmlinuz', '/boot/initrd.img', '/boot/isolinux/isolinux.bin']) assert.ok(files.includes(`'${path}'`), `${path} on the ISO`);
  // The firmware boots ISOLINUX from the CD: no -kernel, no -initrd.
  const booted = await bootMedium({ name: 'live-cd', firmwareBoot: true, medium: { devices: ['-cdrom', iso], files: [iso] }, append: '' });
  assert.equal(booted.report('rootfs'), ['overlay']);
  assert.equal(booted.report('writable'), ['yes']);
  console.log(`  live CD handoff: ${booted.handoff?.toFixed(2)} s`);

  // The same file written to a USB stick: the firmware boots its hybrid MBR,
  // and cowboot finds root=LABEL=MY_LIVE on the stick with no modules=.
  const stick = await bootMedium({ name: 'live-usb-stick', firmwareBoot: true, medium: { usb: iso }, append: '' });
  assert.equal(stick.report('rootfs'), ['overlay']);
  assert.equal(stick.report('writable'), ['yes']);
  assert.match(stick.console, /LABEL=MY_LIVE is sda/);
  console.log(`  USB stick handoff: ${stick.handoff?.toFixed(2)} s`);
});

test.run();
