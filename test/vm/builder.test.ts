// The builder as a user drives it: options, validation, inspection,
// reproducibility. (In the VM suite because it packs the test kernel's modules.)

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findTool } from '../../builder/host';
import { testKernel } from '../../scripts/vm/kernel';
import { PROJECT_DIR, VM_CACHE } from '../../scripts/vm/project';

function cowboot(...args: string[]) {
  return spawnSync(process.execPath, ['bin/cowboot.mjs', ...args], { cwd: PROJECT_DIR, encoding: 'utf8', env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' } });
}

const out = (name: string) => join(VM_CACHE, name);

test('--config is validated: unknown keys and bad values are named, nothing is written', () => {
  const config = out('bad-config.json');
  writeFileSync(config, JSON.stringify({ overlay: 'aufs', colour: 'blue' }));
  const result = cowboot('build', '-o', out('never.img'), '--kmoddir', testKernel().kmoddir, '--config', config);
  assert.is(result.status, 1);
  assert.match(result.stderr, `${config}: overlay=aufs is not valid: expected one of unionfs, dm, overlayfs, none`);
  assert.match(result.stderr, `${config}: colour=blue is not valid: expected a known key: root,`);
});

test('--add-file, --add-module, --config; list and cat show them; the summary names each part', () => {
  const motd = out('motd.txt');
  writeFileSync(motd, 'hello from the builder\n');
  const config = out('good-config.json');
  writeFileSync(config, JSON.stringify({ overlay: 'overlayfs', 'rd.shell': false }));
  const image = out('builder.img');
  const result = cowboot('build', '-o', image, '--kmoddir', testKernel().kmoddir, '--compress', 'gzip', '--add-file', `${motd}:/etc/motd`, '--add-module', 'vfat', '--config', config);
  assert.is(result.status, 0, result.stderr);
  assert.match(result.stderr, /wrote .*builder\.img: [\d.]+ MiB compressed; uncompressed by part: .*runtime [\d.]+ MiB, tools [\d.]+ MiB, modules [\d.]+ MiB, added 0\.0 MiB; stored as it is, in its own segment: \/?lib\/cowboot\/runtime\.squashfs \([\d.]+ MiB\)/);
  const listing = cowboot('list', image).stdout;
  assert.match(listing, /^file +0644 \/etc\/motd \(23 bytes\)$/m);
  // Trixie ships its modules as .ko.xz; the image holds them plain.
  assert.match(listing, /^file +0644 \/lib\/modules\/.*\/vfat\.ko /m);
  assert.not.match(listing, /\.ko\.xz/);
  assert.match(listing, /\nunion kinds: unionfs, dm, overlayfs, none\n$/, 'the last line names the union kinds it carries');
  assert.match(result.stderr, 'cowboot: union kinds in the image: unionfs, dm, overlayfs, none\n');
  assert.match(listing, /^chardev 0600 \/dev\/console \(char 5,1\)$/m);
  assert.is(cowboot('cat', image, '/etc/motd').stdout, 'hello from the builder\n');
  assert.is(cowboot('cat', image, '/etc/cowboot.json').stdout, '{\n  "overlay": "overlayfs",\n  "rd.shell": false\n}\n');
  // The first step, which has no Node to read the config, carries its defaults for a failure.
  assert.match(cowboot('cat', image, '/init').stdout, '\nshell=0 emergency=reboot panic= password=0 why= hot=\n');
  assert.match(cowboot('cat', image, '/nope').stderr, '/nope: not in the image');
  // --icu minimal, the default: the record says what was trimmed of the official binary.
  const record = JSON.parse(cowboot('cat', image, '/etc/cowboot-runtime.json').stdout) as { runtime: string; icu: { mode: string; data: string; items: number; removed: number; bytesBefore: number; bytesAfter: number } };
  assert.is(record.runtime, 'node');
  assert.is(record.icu.mode, 'minimal');
  assert.match(record.icu.data, /^icudt\d+l$/);
  assert.ok(record.icu.removed > 1000 && record.icu.removed < record.icu.items, JSON.stringify(record));
  assert.ok(record.icu.bytesAfter < record.icu.bytesBefore / 3, JSON.stringify(record));
});

test('two builds from the same inputs are byte-identical', () => {
  const a = out('repro-a.cpio');
  const b = out('repro-b.cpio');
  for (const image of [a, b]) assert.is(cowboot('build', '-o', image, '--kmoddir', testKernel().kmoddir, '--compress', 'none').status, 0);
  assert.ok(readFileSync(a).equals(readFileSync(b)));
});

test('bad options name the option, the value and what is valid; a missing tool names its package', () => {
  assert.match(cowboot('build', '-o', out('x.img'), '--compress', 'lz5').stderr, '--compress lz5 is not valid: expected one of zstd, gzip, xz, lz4, none');
  assert.match(cowboot('build', '-o', out('x.img'), '--runtime', 'deno').stderr, '--runtime deno is not valid: expected one of node, bun');
  assert.match(cowboot('build', '-o', out('x.img'), '--pack-runtime', 'zip').stderr, '--pack-runtime zip is not valid: expected one of squashfs, squashfs-lz4, cpio');
  assert.match(cowboot('build', '-o', out('x.img'), '--icu', 'french').stderr, '--icu french is not valid: expected one of full, english, minimal');
  assert.match(cowboot('build', '-o', out('x.img'), '--kmoddir', testKernel().kmoddir, '--runtime', 'bun', '--icu', 'minimal').stderr, "--icu minimal: Bun's binary goes into the image as npm ships it, ICU and all; with --runtime bun, --icu full is the only choice");
  assert.match(cowboot('build', '-o', out('x.img'), '--hot-pages', 'maybe').stderr, '--hot-pages maybe is not valid: expected yes or no');
  assert.match(cowboot('build', '-o', out('x.img'), '--runtime', 'bun', '--icu', 'full', '--hot-pages', 'yes').stderr, '--hot-pages yes: hot pages are for Node in a squashfs image (--runtime node, --pack-runtime squashfs or squashfs-lz4), not --runtime bun --pack-runtime squashfs');
  assert.match(cowboot('build', '-o', out('x.img'), '--add-file', 'nocolon').stderr, '--add-file nocolon is not valid: expected SRC:DEST');
  assert.match(cowboot('build').stderr, '-o FILE is required');
  assert.match(cowboot('build', '-o', out('x.img'), '--compress', 'gzip', '--compress-level', '12').stderr, '--compress-level 12 is not valid for gzip: expected 1 to 9');
  assert.throws(() => findTool({ name: 'unionfs', candidates: ['/nonexistent/unionfs'], debianPackage: 'unionfs-fuse' }), /unionfs not found \(looked in \/nonexistent\/unionfs\); install it with: apt-get install unionfs-fuse/);
});

test('a kernel whose config reads no zstd (or lz4) squashfs is refused before anything is packed, naming --pack-runtime cpio', () => {
  const { kmoddir, version } = testKernel();
  const root = out('no-zstd-kernel');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'lib', 'modules'), { recursive: true });
  mkdirSync(join(root, 'boot'));
  symlinkSync(kmoddir, join(root, 'lib', 'modules', version));
  writeFileSync(join(root, 'boot', `config-${version}`), 'CONFIG_SQUASHFS=m\n# CONFIG_SQUASHFS_ZSTD is not set\n# CONFIG_SQUASHFS_LZ4 is not set\n');
  const result = cowboot('build', '-o', out('no-zstd.img'), '--kmoddir', join(root, 'lib', 'modules', version));
  assert.is.not(result.status, 0, result.stderr);
  assert.match(result.stderr, `config-${version}: this kernel reads no zstd squashfs (CONFIG_SQUASHFS_ZSTD), so it could not read the runtime's image; build with --pack-runtime cpio`);
  const lz4 = cowboot('build', '-o', out('no-zstd.img'), '--kmoddir', join(root, 'lib', 'modules', version), '--pack-runtime', 'squashfs-lz4');
  assert.is.not(lz4.status, 0, lz4.stderr);
  assert.match(lz4.stderr, `config-${version}: this kernel reads no lz4 squashfs (CONFIG_SQUASHFS_LZ4), so it could not read the runtime's image; build with --pack-runtime cpio`);
});

test('cowboot verity writes a hash tree that veritysetup verifies, and that a flipped byte fails', () => {
  const image = out('verity-data.img');
  writeFileSync(image, Buffer.from(Array.from({ length: 300 * 4096 }, (_, i) => (i * 7919) % 251)));
  const made = cowboot('verity', image);
  assert.is(made.status, 0, made.stderr);
  const rootHash = made.stdout.trim();
  assert.match(rootHash, /^[0-9a-f]{64}$/);
  assert.match(made.stderr, `wrote ${image}.verity; boot with roothash=${rootHash}`);
  const verify = () => spawnSync('veritysetup', ['verify', image, `${image}.verity`, rootHash], { encoding: 'utf8' });
  assert.is(verify().status, 0, verify().stderr);
  const bytes = readFileSync(image);
  bytes.writeUInt8(bytes.readUInt8(200_000) ^ 1, 200_000);
  writeFileSync(image, bytes);
  assert.is.not(verify().status, 0);
  writeFileSync(out('odd.img'), Buffer.alloc(5000));
  assert.match(cowboot('verity', out('odd.img')).stderr, 'is 5000 bytes: a verity image is a whole number of 4096-byte blocks');
});

test('build.mjs stays an alias (initramfs is build); help lists every command and option; an unknown command is named', () => {
  const alias = spawnSync(process.execPath, ['build.mjs', 'initramfs', '-o', out('x.img'), '--compress', 'lz5'], { cwd: PROJECT_DIR, encoding: 'utf8' });
  assert.is(alias.status, 1);
  assert.match(alias.stderr, '--compress lz5 is not valid');
  const help = cowboot('--help');
  assert.is(help.status, 0);
  for (const word of ['build', 'list', 'cat', 'plan', 'verity', 'hash-password', 'install', 'uninstall', 'status', 'update', 'forget']) assert.match(help.stdout, `\n  cowboot ${word}`);
  for (const option of ['--kernel-version', '--kmoddir', '--compress-level', '--config', '--host-only', '--add-module', '--add-file', '--runtime', '--icu', '--hot-pages', '--overlay', '--cowsize', '--mounts', '--default', '--no-bootloader', '--dry-run']) {
    assert.match(help.stdout, option);
  }
  const unknown = cowboot('frobnicate');
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, 'unknown command frobnicate');
});

test.run();
