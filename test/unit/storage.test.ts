import { createHash } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCmdline } from '../../src/formats/cmdline';
import { configFromCmdline, describeProblem } from '../../src/config';
import { snapshotMountOptions } from '../../src/union/dm-snapshot';
import { snapshotTable } from '../../src/storage/snapshot';
import { formatBytes, parseMeminfo, parseSize, sizeInBytes } from '../../src/formats/size';
import { toramFits } from '../../src/storage/toram';
import { parseSums } from '../../src/storage/medium-checksums';
import { bootFake, fakeSystem, type FakeSystem, insmod, ISO, liveMachine, SQUASHFS } from './fake-system';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

test('sizes: suffixes K M G T, bytes, and a share of RAM', () => {
  assert.equal(parseSize('512M'), { kind: 'bytes', bytes: 512 * MiB });
  assert.equal(parseSize('2G'), { kind: 'bytes', bytes: 2 * GiB });
  assert.equal(parseSize('2g'), { kind: 'bytes', bytes: 2 * GiB });
  assert.equal(parseSize('64MiB'), { kind: 'bytes', bytes: 64 * MiB });
  assert.equal(parseSize('4096'), { kind: 'bytes', bytes: 4096 });
  assert.equal(parseSize('25%'), { kind: 'percent', percent: 25 });
  for (const bad of ['', '0', '0%', '101%', '1.5G', '-1M', '12X', 'M', '99999999999999999G']) assert.is(parseSize(bad), null, bad);
});

test('COW sizing: a share of RAM is taken from MemTotal; formatting', () => {
  assert.is(sizeInBytes({ kind: 'percent', percent: 50 }, 2 * GiB), GiB);
  assert.is(sizeInBytes({ kind: 'bytes', bytes: 5 }, 2 * GiB), 5);
  assert.is(formatBytes(512 * MiB), '512M');
  assert.is(formatBytes(2 * GiB), '2G');
  assert.is(formatBytes(1.5 * MiB + 1), '1.5 MiB');
  assert.equal(parseMeminfo('MemTotal:  1000 kB\nMemFree: 10 kB\nMemAvailable:   800 kB\n'), { total: 1024000, available: 819200 });
});

test('bad sizes, chunks and COW devices are named', () => {
  const messages = configFromCmdline(parseCmdline('cowsize=lots cowchunk=3 cow=disk loop=live/x.squashfs')).problems.map(describeProblem);
  assert.equal(messages, [
    'command line: loop=live/x.squashfs is not valid: expected an absolute path on the medium, such as /live/filesystem.squashfs',
    'command line: cow=disk is not valid: expected one of tmpfs, ram',
    'command line: cowsize=lots is not valid: expected a size such as 512M, 2G or 25% (of RAM)',
    'command line: cowchunk=3 is not valid: expected a power of two from 1 to 2048 (sectors of 512 bytes), such as 8',
  ]);
});

test('the dm table: persistent with overflow, the chunk in sectors', () => {
  assert.is(snapshotTable(131072, '/dev/vda', '/dev/loop0', 'PO', 8), '0 131072 snapshot /dev/vda /dev/loop0 PO 8');
  assert.is(snapshotMountOptions('ext4', null), 'rw,errors=remount-ro,noinit_itable,nodelalloc');
  assert.is(snapshotMountOptions('ext2', 'noatime'), 'rw,errors=remount-ro,noatime');
  assert.is(snapshotMountOptions('xfs', null), 'rw');
});

test('toram fits only with a quarter of RAM left free', () => {
  const meminfo = { total: 1000 * MiB, available: 900 * MiB };
  assert.ok(toramFits(650 * MiB, meminfo));
  assert.not.ok(toramFits(651 * MiB, meminfo));
});

const commands = (sys: FakeSystem) => sys.calls.filter((c) => c.startsWith('run ') || c.startsWith('copy ') || c.startsWith('sparse '));

test('live CD: the medium read-only on /run/initramfs/live, the image attached read-only, overlayfs on top', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs');
  await bootFake(sys);
  const c = commands(sys);
  const from = c.indexOf('run blockdev --setro /dev/sr0');
  assert.equal(c.slice(from - 1, from + 9), [
    insmod('fs/isofs/isofs.ko'),
    'run blockdev --setro /dev/sr0',
    'run mount -t iso9660 -o ro /dev/sr0 /run/initramfs/live',
    'run losetup -r -f /run/initramfs/live/live/filesystem.squashfs',
    insmod('fs/squashfs/squashfs.ko'),
    'run mount -t squashfs -o ro /dev/loop0 /run/initramfs/ro',
    'run mount -t tmpfs -o mode=0755,size=512000000 cow-mounts /run/initramfs/mounts',
    'run mount -t tmpfs -o mode=0755,size=512000000 cow /run/initramfs/cow',
    'run mount -t overlay -o lowerdir=/run/initramfs/ro,upperdir=/run/initramfs/cow/upper,workdir=/run/initramfs/cow/work overlay /newroot',
    'run mount --move /dev /newroot/dev',
  ]);
  assert.ok(c.indexOf(insmod('drivers/block/loop.ko')) < c.indexOf('run losetup -r -f /run/initramfs/live/live/filesystem.squashfs'));
});

test('findiso= without root=: a disk the image cannot mount is passed over with a warning; the ISO on the next is the medium', async () => {
  const vfat = `${'\0'.repeat(0x52)}FAT32${'\0'.repeat(510 - 0x57)}\x55\xaa`;
  const sys = fakeSystem({
    '/proc/cmdline': 'findiso=/isos/live.iso loop=/live/filesystem.squashfs overlay=overlayfs',
    '/proc/sys/kernel/printk': '4 4 1 7',
    '/proc/meminfo': 'MemTotal: 1000000 kB\nMemAvailable: 900000 kB\n',
    '/sys/class/block/vda/size': '131072\n',
    '/dev/vda': 'XFSB',
    '/sys/class/block/vdb/size': '131072\n',
    '/dev/vdb': vfat,
    '/run/initramfs/isoscan/isos/live.iso': ISO,
    '/run/initramfs/live/live/filesystem.squashfs': SQUASHFS.padEnd(1000, 'x'),
    '/newroot/sbin/init': { kind: 'file', mode: 0o755, text: '' },
  });
  sys.kmsgAvailable = false;
  await bootFake(sys);
  const text = sys.console.join('');
  assert.match(text, 'findiso=/isos/live.iso: cannot look on vda xfs');
  assert.match(text, 'findiso=/isos/live.iso is on vdb vfat');
  const runs = sys.calls.filter((c) => c.startsWith('run '));
  assert.ok(runs.includes('run mount -t vfat -o ro /dev/vdb /run/initramfs/isoscan'));
  assert.ok(runs.indexOf('run blockdev --setro /dev/vdb') < runs.indexOf('run losetup -r -f /run/initramfs/isoscan/isos/live.iso'));
  assert.ok(runs.includes('run mount -t iso9660 -o ro /dev/loop0 /run/initramfs/live'));
});

const sumOf = (text: string) => createHash('sha256').update(Buffer.from(text, 'latin1')).digest('hex');

test('verify: sha256sum.txt read in both of its modes; lines it cannot read are named', () => {
  const hash = 'a'.repeat(64);
  assert.equal(parseSums(`${hash}  ./live/filesystem.squashfs\n${hash.toUpperCase()} *boot/vmlinuz\n\n`).entries, [
    { hash, path: 'live/filesystem.squashfs' },
    { hash, path: 'boot/vmlinuz' },
  ]);
  assert.equal(parseSums(`${hash}  a\nnot a sum\n${hash.slice(1)}  b\n`).bad, [2, 3]);
});

test('verify: every listed file is read before the image is attached; a match goes on', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs verify');
  sys.files.set('/run/initramfs/live/sha256sum.txt', { kind: 'file', mode: 0o644, text: `${sumOf(SQUASHFS.padEnd(1000, 'x'))}  ./live/filesystem.squashfs\n` });
  await bootFake(sys);
  const c = sys.calls;
  assert.ok(c.indexOf('sha256 /run/initramfs/live/live/filesystem.squashfs') < c.indexOf('run losetup -r -f /run/initramfs/live/live/filesystem.squashfs'));
  assert.ok(sys.execveCalls.length === 1, 'the boot went on to the handoff');
});

test('verify: a mismatch stops the boot, naming the file, the expected and the found hash', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs verify');
  const wrong = '0'.repeat(64);
  sys.files.set('/run/initramfs/live/sha256sum.txt', { kind: 'file', mode: 0o644, text: `${wrong}  live/filesystem.squashfs\n` });
  await bootFake(sys, () => sys.shells > 0);
  const text = sys.console.join('');
  assert.match(text, 'verify: live/filesystem.squashfs does not match sha256sum.txt: the medium is damaged or was changed');
  assert.match(text, `expected ${wrong}, found ${sumOf(SQUASHFS.padEnd(1000, 'x'))}`);
  assert.not.ok(sys.calls.includes('run losetup -r -f /run/initramfs/live/live/filesystem.squashfs'));
});

test('verify: no sha256sum.txt, or no loop=, stops the boot with what to do', async () => {
  const missing = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs verify');
  await bootFake(missing, () => missing.shells > 0);
  assert.match(missing.console.join(''), 'verify: the medium has no sha256sum.txt (looked for /run/initramfs/live/sha256sum.txt)');
  const noLoop = liveMachine('root=/dev/vda verify');
  await bootFake(noLoop, () => noLoop.shells > 0);
  assert.match(noLoop.console.join(''), 'verify checks the files of a live medium, and there is none: give loop= too');
});

test('toram: copied into a tmpfs of its size, the medium unmounted, the copy attached', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs toram');
  await bootFake(sys);
  const c = commands(sys);
  const from = c.indexOf('run mount -t tmpfs -o mode=0755,size=1049576 toram /run/initramfs/toram');
  assert.ok(from > 0, c.join('\n'));
  assert.equal(c.slice(from + 1, from + 4), [
    'copy /run/initramfs/live/live/filesystem.squashfs /run/initramfs/toram/filesystem.squashfs',
    'run umount /run/initramfs/live',
    'run losetup -r -f /run/initramfs/toram/filesystem.squashfs',
  ]);
});

test('toram that does not fit: says so and boots from the medium', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs overlay=overlayfs toram', { available: 250_000 });
  await bootFake(sys);
  assert.not.ok(commands(sys).some((c) => c.startsWith('copy /run/initramfs/live')));
  assert.match(sys.console.join(''), 'toram: the image (1000 bytes) does not fit in RAM with a quarter of it left free');
  assert.ok(commands(sys).includes('run losetup -r -f /run/initramfs/live/live/filesystem.squashfs'));
});

test('overlay=dm cow=tmpfs: origin read-only, a sparse COW file on its own tmpfs, the snapshot mounted read-write', async () => {
  const sys = liveMachine('root=/dev/vda overlay=dm cowsize=64M');
  await bootFake(sys);
  const c = commands(sys);
  const from = c.indexOf('run blockdev --setro /dev/vda');
  assert.equal(c.slice(from, from + 10), [
    'run blockdev --setro /dev/vda',
    // The union's module loads in the background while the root is looked at.
    insmod('drivers/md/dm-snapshot.ko'),
    insmod('fs/ext4/ext4.ko'),
    'run mount -t tmpfs -o mode=0755,size=67108864 cow-mounts /run/initramfs/mounts',
    'run mount -t tmpfs -o mode=0755,size=68157440 cow /run/initramfs/cow',
    'sparse /run/initramfs/cow/snapshot-cow 67108864',
    'run losetup -f /run/initramfs/cow/snapshot-cow',
    'run dmsetup --noudevsync create cowboot-root --table 0 131072 snapshot /dev/vda /dev/loop0 PO 8',
    'run dmsetup --noudevsync mknodes cowboot-root',
    'run mount -t ext4 -o rw,errors=remount-ro,noinit_itable,nodelalloc /dev/mapper/cowboot-root /newroot',
  ]);
});

test('overlay=dm on a squashfs image is refused before anything is set up', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/filesystem.squashfs overlay=dm');
  await bootFake(sys, () => sys.shells > 0);
  assert.not.ok(sys.calls.some((c) => c.includes('dmsetup') || c.includes('cow /run/initramfs/cow')));
  assert.match(sys.console.join(''), 'overlay=dm cannot make squashfs writable');
  assert.match(sys.console.join(''), 'hint: use overlay=overlayfs or overlay=unionfs for this root');
});

test('a loop= file missing from the medium: the folder is listed', async () => {
  const sys = liveMachine('root=/dev/sr0 loop=/live/nope.squashfs overlay=overlayfs');
  sys.onShell = () => sys.files.set('/run/initramfs/live/live/nope.squashfs', { kind: 'file', mode: 0o644, text: SQUASHFS });
  await bootFake(sys);
  assert.match(sys.console.join(''), 'loop=/live/nope.squashfs: no such file on /dev/sr0 (mounted on /run/initramfs/live)');
  assert.match(sys.console.join(''), 'hint: /run/initramfs/live/live holds: filesystem.squashfs');
});

test.run();
