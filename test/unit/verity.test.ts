// dm-verity's format as the builder writes it and /init reads it, and the
// table /init makes; the root stage's use of them against the fake system.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCmdline } from '../../src/formats/cmdline';
import { configFromCmdline, describeProblem } from '../../src/config';
import { readSuperblock, type VeritySuperblock, verityTable, writeSuperblock } from '../../src/formats/verity-superblock';
import { bootFake, EXT4, liveMachine } from './fake-system';

const SB: VeritySuperblock = { hashType: 1, algorithm: 'sha256', dataBlockSize: 4096, hashBlockSize: 4096, dataBlocks: 733, salt: Uint8Array.from({ length: 32 }, (_, i) => i) };
const ROOT_HASH = 'b507f297114f3301c20773b89ac8536a63334e2e65dbed565c897778d0033e7e';

test('the superblock reads back as written; what is not one says why', () => {
  assert.equal(readSuperblock(writeSuperblock(SB, new Uint8Array(16))), SB);
  assert.is(readSuperblock(new Uint8Array(512)), 'it has no verity superblock (veritysetup format, or cowboot verity, writes one)');
  assert.is(readSuperblock(new Uint8Array(100)), 'it is shorter than a verity superblock');
});

test("the table: veritysetup open's, with the tree after the superblock's block, and options as dm-verity spells them", () => {
  assert.is(
    verityTable(SB, '/dev/loop0', '/dev/loop1', ROOT_HASH, ['ignore_zero_blocks']),
    `0 5864 verity 1 /dev/loop0 /dev/loop1 4096 4096 733 1 sha256 ${ROOT_HASH} 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 1 ignore_zero_blocks`,
  );
});

test("systemd's parameters: a bad root hash or option is named with what is valid", () => {
  const { values, problems } = configFromCmdline(parseCmdline(`roothash=${ROOT_HASH} systemd.verity_root_options=ignore-zero-blocks,panic-on-corruption systemd.verity_root_hash=LABEL=tree`));
  assert.equal(problems, []);
  assert.equal([values.roothash, values.verityOptions, values.verityHash], [ROOT_HASH, ['ignore-zero-blocks', 'panic-on-corruption'], 'LABEL=tree']);
  assert.equal(configFromCmdline(parseCmdline('roothash=abc systemd.verity_root_options=fast')).problems.map(describeProblem), [
    'command line: roothash=abc is not valid: expected a root hash in hex, as cowboot verity or veritysetup format prints it',
    'command line: systemd.verity_root_options=fast is not valid: expected options separated by commas, such as ignore-zero-blocks,panic-on-corruption',
  ]);
});

const TREE = Buffer.from(writeSuperblock(SB, new Uint8Array(16))).toString('latin1');

/** The live machine, with an ext2 image of 1 KiB blocks beside the squashfs, and with both trees if `tree`. */
function verityMachine(cmdline: string, tree: boolean) {
  return liveMachine(cmdline, {
    files: {
      '/run/initramfs/live/live/rootfs.ext2': EXT4.padEnd(4096, '\0'),
      ...(tree ? { '/run/initramfs/live/live/filesystem.squashfs.verity': TREE, '/run/initramfs/live/live/rootfs.ext2.verity': TREE } : {}),
    },
  });
}

test('roothash= with loop=: IMAGE.verity beside the image holds the tree; the image is read through the verity device', async () => {
  const sys = verityMachine(`root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs roothash=${ROOT_HASH}`, true);
  await bootFake(sys);
  const runs = sys.calls.filter((c) => c.startsWith('run '));
  const at = runs.indexOf('run losetup -r -f /run/initramfs/live/live/filesystem.squashfs.verity');
  assert.ok(at > 0, 'the tree is attached read-only');
  assert.ok(runs.includes(`run dmsetup --noudevsync create --readonly cowboot-verity --table ${verityTable(SB, '/dev/loop0', '/dev/loop1', ROOT_HASH, [])}`));
  assert.ok(runs.includes('run mount -t squashfs -o ro /dev/mapper/cowboot-verity /run/initramfs/ro'));
});

test('roothash= without its tree, with toram, on a device without systemd.verity_root_hash=, or over ext with small blocks: the boot stops saying what to do', async () => {
  const cases: [string, boolean, string][] = [
    [`root=/dev/sr0 loop=/live/filesystem.squashfs roothash=${ROOT_HASH}`, false, 'roothash=: no hash tree beside the image (looked for /run/initramfs/live/live/filesystem.squashfs.verity)'],
    [`root=/dev/sr0 loop=/live/filesystem.squashfs toram roothash=${ROOT_HASH}`, true, 'roothash= with toram: the hash tree stays on the medium, which toram lets go'],
    [`root=/dev/vda overlay=overlayfs roothash=${ROOT_HASH}`, false, 'roothash= on a root device needs the device that holds its hash tree'],
    [`root=/dev/sr0 loop=/live/rootfs.ext2 roothash=${ROOT_HASH}`, true, '/dev/loop0 holds ext2/3/4 with 1024-byte blocks, which the verity device\'s 4096-byte sectors cannot mount'],
  ];
  for (const [cmdline, tree, message] of cases) {
    const sys = verityMachine(cmdline, tree);
    await bootFake(sys, () => sys.shells > 0);
    assert.match(sys.console.join(''), message);
  }
});

test.run();
