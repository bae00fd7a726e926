import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCmdline } from '../../src/formats/cmdline';
import { configFromCmdline, describeProblem } from '../../src/config';
import { DETECT_BYTES } from '../../src/formats/superblocks';
import { decodeHeader, encodeHeader, type LayerRecord, mismatch, rootIdentity } from '../../src/formats/layer-record';
import { shutdownScript } from '../../src/persist/shutdown';
import { parsePersistSpec } from '../../src/formats/persist-spec';
import { mediumText } from '../../src/formats/medium-copy';
import { bootFake, EXT4, type FakeSystem, liveMachine } from './fake-system';

const LAYER = '/run/initramfs/persist/cowboot-layer';
const ROOT = rootIdentity(Buffer.from(EXT4, 'latin1').subarray(0, DETECT_BYTES), 131072 * 512);
const RECORD: LayerRecord = { format: 1, overlay: 'overlayfs', root: ROOT };

const commands = (sys: FakeSystem) => sys.calls.filter((c) => /^(run|copy|write|symlink) /.test(c));
const output = (sys: FakeSystem) => sys.console.join('');

/** The root on /dev/vda (ext4), and /dev/vdb for the changes, holding `vdb`. */
function machine(cmdline: string, vdb: string = EXT4, files: Record<string, string> = {}): FakeSystem {
  return liveMachine(`root=/dev/vda ${cmdline}`, { files: { '/dev/vdb': vdb, '/sys/class/block/vdb/size': '131072\n', ...files } });
}

test('persist=: the forms of root=, with an image file after ":/"; bad ones are named', () => {
  assert.equal(parsePersistSpec('LABEL=keep'), { device: { kind: 'label', value: 'keep' }, file: null });
  assert.equal(parsePersistSpec('UUID=1234-ABCD:/live/persist.img'), { device: { kind: 'uuid', value: '1234-ABCD' }, file: '/live/persist.img' });
  assert.equal(parsePersistSpec('/dev/disk/by-path/pci-0000:00:04.0-part2'), { device: { kind: 'path', path: '/dev/disk/by-path/pci-0000:00:04.0-part2' }, file: null });
  assert.is(parsePersistSpec('keep'), null);
  assert.is(parsePersistSpec('LABEL=keep:/'), null);
  const problems = configFromCmdline(parseCmdline('persist=stick persist.reset=2')).problems.map(describeProblem);
  assert.equal(problems, [
    'command line: persist=stick is not valid: expected a device as root= names one, optionally with the path of an image file on it: LABEL=persist, /dev/sdb2, UUID=…:/persist.img',
    'command line: persist.reset=2 is not valid: expected no value, or 0 or 1',
  ]);
  // dracut's names for the same.
  const { values } = configFromCmdline(parseCmdline('rd.live.overlay=LABEL=keep:/o.img rd.live.overlay.reset'));
  assert.is(values.persist, 'LABEL=keep:/o.img');
  assert.is(values.persistReset, true);
});

test('a layer record: its own root and kind match; another kind, another root, or the same root changed are named', () => {
  assert.is(mismatch(RECORD, 'overlayfs', ROOT), null);
  assert.is(mismatch(RECORD, 'unionfs', ROOT), 'it was made by overlay=overlayfs, and this boot uses overlay=unionfs');
  const named = { ...ROOT, uuid: 'bbbb' };
  assert.match(mismatch({ ...RECORD, root: named }, 'overlayfs', { ...named, head: '0'.repeat(64) })!, /^it was made over this root \(ext4 UUID=bbbb, 64M\) before the root changed: its first bytes or its size differ now$/);
  const other = { ...ROOT, uuid: 'aaaa', head: '0'.repeat(64) };
  assert.match(mismatch(RECORD, 'overlayfs', other)!, /^it was made over another root \(ext4, 64M\), not this one \(ext4 UUID=aaaa, 64M\)$/);
  const head = Buffer.from(encodeHeader(RECORD), 'latin1');
  assert.equal(decodeHeader(head), RECORD);
  assert.is(decodeHeader(new Uint8Array(4096)), 'none');
  assert.is(decodeHeader(Buffer.from('cowboot-layer\n{"format":2}\n\0')), 'unreadable');
});

test('overlayfs, a new layer: its filesystem read-write, the record written, the layer bound as the COW space, the shutdown return in /run/initramfs', async () => {
  const sys = machine('overlay=overlayfs persist=/dev/vdb');
  await bootFake(sys);
  const c = commands(sys);
  const from = c.indexOf('run mount -t ext4 -o ro,noload /dev/vdb /run/initramfs/persist');
  assert.ok(from > 0, c.join('\n'));
  assert.equal(c.slice(from, from + 6), [
    'run mount -t ext4 -o ro,noload /dev/vdb /run/initramfs/persist',
    'run umount /run/initramfs/persist',
    'run mount -t ext4 -o rw /dev/vdb /run/initramfs/persist',
    `write ${LAYER}/layer.json`,
    `run mount --bind ${LAYER} /run/initramfs/cow`,
    'copy /bin/busybox /run/initramfs/bin/busybox',
  ]);
  assert.equal(JSON.parse(sys.readText(`${LAYER}/layer.json`)), RECORD);
  assert.ok(c.includes('write /run/initramfs/shutdown (mode 755)'));
  assert.not.ok(c.some((x) => x.includes('cow /run/initramfs/cow')), 'no RAM for the changes');
  assert.not.ok(c.some((x) => x.includes('dmsetup')), 'no dmsetup copied where no device-mapper device is');
  assert.match(output(sys), /persist: changes go to \/run\/initramfs\/persist\/cowboot-layer on \/dev\/vdb \(ext4\), a new layer/);
  assert.match(output(sys), /shutdown return: \/run\/initramfs\/shutdown takes the union apart at shutdown \(systemd\); it keeps 0\.0 MiB in RAM \(busybox\)/);
  assert.ok(c.includes('run mount -t overlay -o lowerdir=/run/initramfs/ro,upperdir=/run/initramfs/cow/upper,workdir=/run/initramfs/cow/work overlay /newroot'));
});

test('a layer of this root is used again as it is; persist.reset empties it first', async () => {
  const kept = machine('overlay=overlayfs persist=/dev/vdb', EXT4, { [`${LAYER}/layer.json`]: JSON.stringify(RECORD) });
  await bootFake(kept);
  assert.not.ok(commands(kept).some((c) => c.startsWith(`write ${LAYER}`)), 'the record is kept as it is');
  assert.match(output(kept), 'on /dev/vdb (ext4), kept from earlier boots');
  const reset = machine('overlay=overlayfs persist=/dev/vdb persist.reset', EXT4, { [`${LAYER}/layer.json`]: JSON.stringify(RECORD) });
  await bootFake(reset);
  assert.ok(commands(reset).includes(`run rm -rf ${LAYER}`));
  assert.match(output(reset), 'persist.reset: the kept layer on /dev/vdb was removed; it starts empty');
});

test('a layer of another root is refused with the reason, let go, and the boot keeps its changes in RAM; persist.adopt takes it over', async () => {
  const foreign = JSON.stringify({ ...RECORD, root: { ...ROOT, uuid: 'aaaa', head: '0'.repeat(64) } });
  const sys = machine('overlay=overlayfs persist=/dev/vdb', EXT4, { [`${LAYER}/layer.json`]: foreign });
  await bootFake(sys);
  const c = commands(sys);
  assert.match(output(sys), /persist=\/dev\/vdb: the layer is not this root's: it was made over another root \(ext4 UUID=aaaa, 64M\), not this one \(ext4, 64M\) \(its changes would be applied to a root they were not made for; boot with persist\.adopt to use it anyway, or persist\.reset to start it over\); this boot keeps its changes in RAM/);
  assert.not.ok(c.some((x) => x.includes('-o rw /dev/vdb')), 'a refused layer is only looked at, read-only');
  assert.ok(c.indexOf('run umount /run/initramfs/persist') < c.findIndex((x) => x.includes('cow /run/initramfs/cow')));
  assert.not.ok(c.some((x) => x.includes('--bind')));
  assert.not.ok(c.some((x) => x.includes('/run/initramfs/shutdown')), 'no shutdown return without a kept layer');
  assert.is(sys.execveCalls.length, 1, 'the boot went on');
  const adopt = machine('overlay=overlayfs persist=/dev/vdb persist.adopt', EXT4, { [`${LAYER}/layer.json`]: foreign });
  await bootFake(adopt);
  assert.equal(JSON.parse(adopt.readText(`${LAYER}/layer.json`)), RECORD);
  assert.match(output(adopt), 'persist.adopt: the layer is used, though it was made over another root');
});

test('persist= on FAT, on the root itself, or with overlay=none: named, and the boot goes on in RAM', async () => {
  const fat = machine('overlay=unionfs persist=/dev/vdb', `${'\0'.repeat(0x36)}FAT16`.padEnd(510, '\0') + '\x55\xaa');
  await bootFake(fat);
  assert.match(output(fat), 'persist=/dev/vdb: /dev/vdb holds vfat, which cannot keep overlay=unionfs\'s changes (it needs ext2, ext3, ext4) (on a FAT or exFAT stick, keep an ext4 image file: persist=DEVICE:/persist.img)');
  const root = machine('overlay=overlayfs persist=/dev/vda', EXT4, { '/sys/class/block/vda/ro': '1\n' });
  await bootFake(root);
  assert.match(output(root), '/dev/vda is read-only: it holds the root or the boot medium, which are never written');
  const none = machine('overlay=none persist=/dev/vdb');
  await bootFake(none);
  assert.match(output(none), 'persist=/dev/vdb: overlay=none makes no changes to keep; persist= is not used');
});

test('overlay=dm: a blank device gets the record and an empty store past its first MiB; the snapshot keeps its changes there', async () => {
  const sys = machine('overlay=dm persist=/dev/vdb', '\0'.repeat(DETECT_BYTES));
  await bootFake(sys);
  // Up to the union: the fill watcher's copies at the handoff are fill-watch.test's.
  const c = commands(sys).filter((x) => (x.startsWith('run dd') || x.includes('dmsetup') || x.startsWith('copy')) && !x.includes('/newroot/'));
  assert.equal(c, [
    'run dd if=/dev/zero of=/dev/vdb bs=4096 count=1 seek=256 conv=notrunc,fsync',
    'run dd if=/run/initramfs/layer-record of=/dev/vdb conv=notrunc,fsync',
    'run dmsetup --noudevsync create cowboot-persist --table 0 129024 linear /dev/vdb 2048',
    'run dmsetup --noudevsync mknodes cowboot-persist',
    'copy /bin/busybox /run/initramfs/bin/busybox',
    'copy /usr/sbin/dmsetup /run/initramfs/sbin/dmsetup',
    'copy /lib/libdevmapper.so.1 /run/initramfs/lib/libdevmapper.so.1',
    'run dmsetup --noudevsync create cowboot-root --table 0 131072 snapshot /dev/vda /dev/mapper/cowboot-persist PO 8',
    'run dmsetup --noudevsync mknodes cowboot-root',
  ]);
  assert.equal(decodeHeader(Buffer.from(sys.readText('/run/initramfs/layer-record'), 'latin1')), { ...RECORD, overlay: 'dm' });
  assert.match(output(sys), 'it keeps 0.0 MiB in RAM (busybox, dmsetup and its libraries)');
});

test('overlay=dm: a device that holds a filesystem is not written over', async () => {
  const sys = machine('overlay=dm persist=/dev/vdb');
  await bootFake(sys);
  assert.not.ok(sys.calls.some((c) => c.includes('of=/dev/vdb')));
  assert.match(output(sys), 'persist=/dev/vdb: /dev/vdb holds ext4 and no cowboot layer; overlay=dm would write its store over it (to give the whole of it to cowboot, zero its start first (dd if=/dev/zero of=/dev/vdb bs=1M count=2); or keep an image file on it: persist=DEVICE:/persist.cow); this boot keeps its changes in RAM');
  assert.ok(sys.calls.includes('sparse /run/initramfs/cow/snapshot-cow 512000000'));
});

test('an image file on a FAT stick: the stick read-write, the file on a loop device, a missing file named', async () => {
  const fat = `${'\0'.repeat(0x36)}FAT16`.padEnd(510, '\0') + '\x55\xaa';
  const sys = machine('overlay=overlayfs persist=/dev/vdb:/keep.img', fat, { '/run/initramfs/persist-host/keep.img': EXT4.padEnd(4096, '\0') });
  await bootFake(sys);
  const c = commands(sys).filter((x) => x.includes('persist') || x.includes('losetup'));
  assert.equal(c.slice(0, 9), [
    // Looked at read-only, then used read-write.
    'run mount -t vfat -o ro /dev/vdb /run/initramfs/persist-host',
    'run losetup -r -f /run/initramfs/persist-host/keep.img',
    'run mount -t ext4 -o ro,noload /dev/loop0 /run/initramfs/persist',
    'run umount /run/initramfs/persist',
    'run losetup -d /dev/loop0',
    'run umount /run/initramfs/persist-host',
    'run mount -t vfat -o rw /dev/vdb /run/initramfs/persist-host',
    'run losetup -f /run/initramfs/persist-host/keep.img',
    'run mount -t ext4 -o rw /dev/loop0 /run/initramfs/persist',
  ]);
  assert.match(sys.readText('/run/initramfs/shutdown'), 'watched="/sys/fs/ext4/loop0"');
  const missing = machine('overlay=overlayfs persist=/dev/vdb:/nope.img', fat);
  await bootFake(missing);
  assert.match(output(missing), 'persist=/dev/vdb:/nope.img: no file /nope.img on /dev/vdb (vfat)');
  assert.ok(commands(missing).includes('run umount /run/initramfs/persist-host'));
});

test('the shutdown script: busybox sh reads it; it waits for the layer\'s filesystem and never ends', () => {
  const script = shutdownScript([{ name: 'vdb', type: 'vfat' }, { name: 'loop0', type: 'ext4' }]);
  assert.match(script, 'watched="/sys/fs/ext4/loop0"\n');
  assert.match(script, 'names="vdb loop0"\n');
  assert.match(script, /\nwhile :; do sleep 3600; done\n$/);
  const check = spawnSync('busybox', ['sh', '-n'], { input: script, encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
});

test('the fstab a kept layer holds from the last boot gives back the medium\'s', () => {
  const medium = 'UUID=a / ext4 defaults 0 1\nUUID=b /data ext4 defaults 0 2\n';
  const written = `# Written at boot by cowboot\n# cowboot: the root is the union: UUID=a / ext4 defaults 0 1\noverlay / overlay rw 0 0\n# cowboot: the fstab on the medium, as it was:\n${medium.split('\n').map((l) => `#| ${l}`).join('\n')}\n`;
  assert.is(mediumText(written, 'fstab'), medium);
  assert.is(mediumText(medium, 'fstab'), medium);
});

test.run();
