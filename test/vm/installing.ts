// What both install tests do inside a trixie root opened for chroot: run
// cowboot from the clone with trixie's own Node.js, check each step, and
// compare the root before and after.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as assert from 'uvu/assert';
import type { MountedRoot, Ran } from '../../scripts/vm/chroot';
import { PROJECT_DIR } from '../../scripts/vm/project';

// Trixie's own Node.js (20), as a user of that release runs cowboot from a clone; the image's Node comes from npm.
const NODE = '/usr/bin/node';

// What dpkg, apt and initramfs-tools keep of a package installed and purged, and what only runs: not cowboot's.
export const NOT_OURS = ['/proc', '/sys', '/dev', '/run', '/tmp', '/var/lib/dpkg', '/var/log', '/var/cache', '/var/lib/initramfs-tools', PROJECT_DIR];

export function ok(ran: Ran, what: string): Ran {
  assert.is(ran.status, 0, `${what} failed:\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/** The clone's cowboot command, run inside the root. */
export const cowbootIn =
  (root: MountedRoot, env: Record<string, string> = {}) =>
  (...args: string[]) =>
    root.run([NODE, join(PROJECT_DIR, 'bin', 'cowboot.mjs'), ...args], env);

/** The .deb files setup fetched for the install tests (scripts/setup.mjs, TEST_DEBS), by their folder's name. */
export function testDebs(name: 'second-kernel' | 'systemd-boot' | 'secure-boot'): string[] {
  const dir = join(PROJECT_DIR, '.cache', 'debian', name);
  const debs = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.deb')) : [];
  if (debs.length === 0) throw new Error(`no ${name} packages in ${dir}: run "node scripts/setup.mjs" as root (npm test does)`);
  return debs.map((deb) => join(dir, deb));
}

export function differences(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((p) => before.get(p) !== after.get(p)).map((p) => `${p}: ${before.get(p) ?? 'absent'} -> ${after.get(p) ?? 'absent'}`);
}

/** GRUB's defaults as grub-pc's or grub-efi's postinst copies them, with `settings` (NAME=value) in place of theirs, or added. */
export function grubDefaults(root: MountedRoot, settings: Readonly<Record<string, string>> = {}): void {
  ok(root.run(['cp', '/usr/share/grub/default/grub', '/etc/default/grub']), 'cp');
  for (const [name, value] of Object.entries(settings)) {
    const script = 'if grep -q "^$1=" "$3"; then sed -i "s|^$1=.*|$1=$2|" "$3"; else echo "$1=$2" >> "$3"; fi';
    ok(root.run(['sh', '-c', script, 'sh', name, value, '/etc/default/grub']), `set ${name}`);
  }
}
