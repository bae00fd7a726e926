import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { moduleName, parseAliases, parseBuiltin, parseModulesDep, selectModules } from '../../builder/kmod';

const DEP = `kernel/fs/ext4/ext4.ko: kernel/lib/crc16.ko kernel/fs/mbcache.ko kernel/fs/jbd2/jbd2.ko
kernel/lib/crc16.ko:
kernel/fs/mbcache.ko:
kernel/fs/jbd2/jbd2.ko:
kernel/drivers/md/dm-snapshot.ko.xz: kernel/drivers/md/dm-bufio.ko.xz kernel/drivers/md/dm-mod.ko.xz
kernel/drivers/md/dm-bufio.ko.xz: kernel/drivers/md/dm-mod.ko.xz
kernel/drivers/md/dm-mod.ko.xz:
kernel/crypto/crc32c_generic.ko:
kernel/arch/x86/crypto/crc32c-intel.ko:
`;
const ALIASES = `alias crc32c crc32c_generic
alias crc32c crc32c_intel
alias pci:v00001AF4d00001001sv*sd*bc*sc*i* virtio_blk
alias fs-ext2 ext4
`;
const BUILTIN = 'kernel/drivers/virtio/virtio_pci.ko\n';

const select = (wanted: string[]) => selectModules(wanted, parseModulesDep(DEP), parseAliases(ALIASES), parseBuiltin(BUILTIN));

test('module names: no folder, no .ko or compression suffix, dashes as underscores', () => {
  assert.is(moduleName('kernel/drivers/md/dm-snapshot.ko.xz'), 'dm_snapshot');
  assert.is(moduleName('kernel/fs/ext4/ext4.ko'), 'ext4');
});

test('dependencies come along, each once', () => {
  assert.equal(select(['ext4', 'dm-snapshot']).paths, [
    'kernel/drivers/md/dm-bufio.ko.xz', 'kernel/drivers/md/dm-mod.ko.xz', 'kernel/drivers/md/dm-snapshot.ko.xz',
    'kernel/fs/ext4/ext4.ko', 'kernel/fs/jbd2/jbd2.ko', 'kernel/fs/mbcache.ko', 'kernel/lib/crc16.ko',
  ]);
});

test('an alias brings every module that provides it; wildcard aliases are not names', () => {
  assert.equal(select(['crc32c']).paths, ['kernel/arch/x86/crypto/crc32c-intel.ko', 'kernel/crypto/crc32c_generic.ko']);
  assert.equal(select(['fs-ext2']).paths.includes('kernel/fs/ext4/ext4.ko'), true);
  assert.equal(parseAliases(ALIASES).has('pci:v00001AF4d00001001sv*sd*bc*sc*i*'), false);
});

test('built-in and missing modules are told apart', () => {
  const s = select(['virtio_pci', 'ata_piix']);
  assert.equal(s, { paths: [], builtin: ['virtio_pci'], missing: ['ata_piix'] });
});

test.run();
