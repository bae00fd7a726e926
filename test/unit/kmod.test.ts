import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { aliasModule, filterMetadata, plainModule, plainModuleDep, plainModulePath, selectModules } from '../../builder/kmod';
import { globMatch, matchModaliases, parseAliasRules } from '../../src/kmod/alias';
import { type LoadOne, ModuleLoader, moduleName, parseModuleDb } from '../../src/kmod/loader';

const DEP = `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/drivers/md/dm-snapshot.ko.xz: kernel/drivers/md/dm-bufio.ko.xz kernel/drivers/md/dm-mod.ko.xz
kernel/drivers/md/dm-bufio.ko.xz: kernel/drivers/md/dm-mod.ko.xz
kernel/drivers/md/dm-mod.ko.xz:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
kernel/drivers/block/virtio_blk.ko:
kernel/drivers/ata/ahci.ko: kernel/drivers/ata/libahci.ko
kernel/drivers/ata/libahci.ko:
`;
const ALIASES = `alias crc32c crc32c_generic
alias crc32c crc32c_intel
alias virtio:d00000002v* virtio_blk
alias pci:v*d*sv*sd*bc01sc06i01* ahci
alias pci:v00008086d00002922sv*sd*bc*sc*i* ahci
alias fs-ext2 ext4
alias usb:v0BDAp0129d*dc*dsc*dp*ic[0-9]*isc*ip*in* rtsx_usb
`;
const BUILTIN = 'kernel/drivers/virtio/virtio_pci.ko\n';

const db = parseModuleDb(DEP, BUILTIN);
const aliases = parseAliasRules(ALIASES);

test('module names: no folder, no .ko or compression suffix, dashes as underscores', () => {
  assert.is(moduleName('kernel/drivers/md/dm-snapshot.ko.xz'), 'dm_snapshot');
  assert.is(moduleName('kernel/fs/ext4/ext4.ko'), 'ext4');
  assert.equal(db.deps.get('dm_snapshot'), ['dm_bufio', 'dm_mod']);
});

test('modaliases match shell-style wildcards, character classes included', () => {
  assert.equal(matchModaliases(aliases, ['virtio:d00000002v00001AF4']), ['virtio_blk']);
  assert.equal(matchModaliases(aliases, ['pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01']), ['ahci']);
  assert.equal(matchModaliases(aliases, ['usb:v0BDAp0129d0100dc00dsc00dp00ic7isc06ip50in00']), ['rtsx_usb']);
  assert.equal(matchModaliases(aliases, ['usb:v0BDAp0129d0100dc00dsc00dp00icFFisc06ip50in00']), []);
  assert.equal(matchModaliases(aliases, ['pci:v00001234d00001111sv00001AF4sd00001100bc03sc00i00']), []);
});

test('wildcards as fnmatch: * backtracks, ? takes one, classes take ranges and !, a lone [ is itself', () => {
  const cases: [string, string, boolean][] = [
    ['pci:v*d*sv*sd*bc01sc06i01*', 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01', true],
    ['pci:v*d*sv*sd*bc01sc06i01*', 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i02', false],
    ['a*b*c', 'abxbyc', true],
    ['a*b*c', 'abxbycd', false],
    ['a*', 'a', true],
    ['*', '', true],
    ['', 'a', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['d0[0-2]*', 'd01x', true],
    ['d0[0-2]*', 'd03x', false],
    ['ic[!7]', 'ic8', true],
    ['ic[!7]', 'ic7', false],
    ['x[ab-d]', 'xc', true],
    ['x[ab-d]', 'xe', false],
    ['a[b', 'a[b', true],
    ['a[b', 'ab', false],
    ['a.b+(c)', 'a.b+(c)', true],
    ['a.b', 'axb', false],
  ];
  for (const [glob, text, expected] of cases) assert.is(globMatch(glob, text), expected, `${glob} against ${text}`);
});

test('selection: dependencies come along, aliases bring every provider, built-in and missing apart', () => {
  assert.equal(selectModules(['ext4', 'dm-snapshot'], db, aliases).modules, ['crc16', 'dm_bufio', 'dm_mod', 'dm_snapshot', 'ext4', 'jbd2', 'mbcache']);
  assert.equal(selectModules(['crc32c'], db, aliases).modules, ['crc32c_generic', 'crc32c_intel']);
  assert.equal(selectModules(['fs-ext2'], db, aliases).modules.includes('ext4'), true);
  assert.equal(selectModules(['virtio_pci', 'ata_piix'], db, aliases), { modules: [], builtin: ['virtio_pci'], missing: ['ata_piix'] });
});

test('metadata is cut down to the modules in the image', () => {
  const keep = new Set(['ext4', 'crc32c_generic']);
  assert.is(filterMetadata(ALIASES, keep, aliasModule), 'alias crc32c crc32c_generic\nalias fs-ext2 ext4\n');
  const symbols = '# Aliases for symbols, used by symbol_request().\nalias symbol:jbd2_journal_load jbd2\nalias symbol:ext4_get_acl ext4\nalias symbol:drm_need_swiotlb drm\n';
  assert.is(filterMetadata(symbols, keep, aliasModule), 'alias symbol:ext4_get_acl ext4\n');
});

function recordingLoader(limit: number, failing: string[] = []) {
  const log: string[] = [];
  let running = 0;
  let peak = 0;
  const loadOne: LoadOne = async (module) => {
    running++;
    peak = Math.max(peak, running);
    log.push(`start ${module}`);
    await new Promise((r) => setTimeout(r, 5));
    log.push(`end ${module}`);
    running--;
    return failing.includes(module) ? { ok: false, error: 'No such device' } : { ok: true };
  };
  const loader = new ModuleLoader(db, new Set(['crc16']), loadOne, () => performance.now(), limit);
  return { loader, log, peak: () => peak };
}

test('parallel loading: a module starts only after the modules it needs, each loaded once', async () => {
  const { loader, log, peak } = recordingLoader(4);
  const [a, b] = await Promise.all([loader.load(['ext4', 'dm_snapshot', 'virtio_pci']), loader.load(['ext4', 'virtio_blk'])]);
  const at = (e: string) => log.indexOf(e);
  assert.ok(at('end jbd2') < at('start ext4') && at('end mbcache') < at('start ext4'));
  assert.ok(at('end dm_mod') < at('start dm_bufio') && at('end dm_bufio') < at('start dm_snapshot'));
  assert.is(log.filter((e) => e === 'start ext4').length, 1);
  assert.not.ok(log.includes('start crc16'), 'already loaded');
  assert.not.ok(log.includes('start virtio_pci'), 'built in');
  assert.ok(peak() > 1 && peak() <= 4, `ran ${peak()} at once`);
  assert.equal(a.map((r) => r.module), ['ext4', 'dm_snapshot']);
  assert.equal(b.map((r) => r.module), ['ext4', 'virtio_blk']);
});

test('one at a time with limit 1; a failed dependency fails what needs it', async () => {
  const { loader, peak } = recordingLoader(1, ['libahci']);
  const results = await loader.load(['ahci', 'virtio_blk', 'nope']);
  assert.is(peak(), 1);
  assert.equal(results.map((r) => [r.module, r.ok, r.error ?? '']), [
    ['ahci', false, 'needs libahci, which failed'],
    ['virtio_blk', true, ''],
    ['nope', false, 'not in this image'],
  ]);
  assert.ok(loader.has('virtio_pci') && loader.has('ext4') && !loader.has('nope'));
});

test('compressed modules (Debian 13: .ko.xz) go into the image plain, under .ko names, and modules.dep follows', () => {
  assert.is(plainModulePath('kernel/fs/fat/vfat.ko.xz'), 'kernel/fs/fat/vfat.ko');
  assert.is(plainModulePath('kernel/fs/ext4/ext4.ko.zst'), 'kernel/fs/ext4/ext4.ko');
  assert.is(plainModulePath('kernel/fs/isofs/isofs.ko'), 'kernel/fs/isofs/isofs.ko');
  assert.is(plainModuleDep('kernel/fs/fat/vfat.ko.xz: kernel/fs/fat/fat.ko.xz\nkernel/a.ko.gz:\n'), 'kernel/fs/fat/vfat.ko: kernel/fs/fat/fat.ko\nkernel/a.ko:\n');
  const dir = mkdtempSync(join(tmpdir(), 'cowboot-kmod-'));
  try {
    const elf = Buffer.concat([Buffer.from('\x7fELF', 'latin1'), Buffer.alloc(4096, 7), Buffer.from('~Module signature appended~\n')]);
    writeFileSync(join(dir, 'm.ko'), elf);
    execFileSync('xz', ['-k', '--check=crc32', join(dir, 'm.ko')]);
    execFileSync('zstd', ['-q', '-k', join(dir, 'm.ko')]);
    assert.equal(plainModule(join(dir, 'm.ko.xz')), elf);
    assert.equal(plainModule(join(dir, 'm.ko.zst')), elf);
    assert.equal(plainModule(join(dir, 'm.ko')), elf);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
