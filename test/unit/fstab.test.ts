// The root's fstab as a frozen system sees it: reading it, and the fstab
// stage against the fake: what it mounts, and the fstab it writes in the union.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { entryKind, type FstabEntry, fstabLine, kernelOptions, parseFstab } from '../../src/formats/fstab';
import { bootFake, fakeSystem, type FakeSystem } from './fake-system';

const ROOT_UUID = '0d1e2b3a-4c5d-4e6f-8a9b-0c1d2e3f4a5b';
const DATA_UUID = '1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d';

const INSTALLER_FSTAB = `# /etc/fstab: static file system information.
UUID=${ROOT_UUID} /               ext4    errors=remount-ro 0       1
UUID=${DATA_UUID} /data           ext4    defaults        0       2
UUID=2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e none            swap    sw              0       0
/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0
tmpfs /tmp tmpfs nosuid,nodev 0 0
`;

const entries = (text: string): FstabEntry[] => parseFstab(text).flatMap((l) => (l.kind === 'entry' ? [l.entry] : []));

test('an installer fstab: the root, a local filesystem, swap, and lines left alone', () => {
  assert.equal(entries(INSTALLER_FSTAB).map((e) => [e.file, entryKind(e), e.pass]), [
    ['/', 'root', 1],
    ['/data', 'local', 2],
    ['none', 'swap', 0],
    ['/media/cdrom0', 'other', 0],
    ['/tmp', 'other', 0],
  ]);
  const [bind, network, spaced, partlabel] = entries('/srv /var/srv none bind 0 0\nserver:/export /mnt/nfs nfs defaults 0 0\nLABEL=my\\040disk /mnt/my\\040disk ext4 defaults 0 2\nPARTLABEL=home /home xfs noatime\n');
  assert.is(entryKind(bind!), 'other');
  assert.is(entryKind(network!), 'other');
  assert.equal([spaced!.spec, spaced!.file, entryKind(spaced!)], ['LABEL=my disk', '/mnt/my disk', 'local']);
  assert.equal([partlabel!.pass, entryKind(partlabel!)], [0, 'local'], 'missing fields take their defaults');
});

test('a read-only mount keeps the kernel options and drops those of mount(8) and systemd', () => {
  const [entry] = entries('UUID=x /home btrfs defaults,nofail,noatime,subvol=@home,x-systemd.automount,_netdev,rw 0 0\n');
  assert.equal(kernelOptions(entry!), ['noatime', 'subvol=@home']);
  assert.is(fstabLine('LABEL=my disk', '/mnt/my disk', 'ext4', []), 'LABEL=my\\040disk /mnt/my\\040disk ext4 defaults 0 0');
});

/** An ext4 superblock with a UUID, as the scanner reads it. */
function ext4(uuid: string, needsRecovery = false): string {
  const sb = Buffer.alloc(2048);
  sb.writeUInt16LE(0xef53, 1024 + 0x38);
  sb.writeUInt32LE(0x40 | (needsRecovery ? 0x4 : 0), 1024 + 0x60);
  Buffer.from(uuid.replaceAll('-', ''), 'hex').copy(sb, 1024 + 0x68);
  return sb.toString('latin1');
}

/** A swap area's first page, as mkswap writes it. */
function swapArea(uuid: string): string {
  const page = Buffer.alloc(4096);
  Buffer.from(uuid.replaceAll('-', ''), 'hex').copy(page, 1024 + 12);
  page.write('SWAPSPACE2', 4096 - 10, 'latin1');
  return page.toString('latin1');
}

function frozenMachine(cmdline: string, options: { dataDisk?: boolean; dirtyData?: boolean } = {}): FakeSystem {
  const sys = fakeSystem({
    '/proc/cmdline': `root=UUID=${ROOT_UUID} ${cmdline}`,
    '/proc/sys/kernel/printk': '4 4 1 7',
    '/proc/meminfo': 'MemTotal: 1000000 kB\nMemAvailable: 900000 kB\n',
    '/sys/class/block/vda/size': '131072\n',
    '/dev/vda': ext4(ROOT_UUID),
    ...(options.dataDisk === false ? {} : { '/sys/class/block/vdb1/size': '131072\n', '/dev/vdb1': ext4(DATA_UUID, options.dirtyData) }),
    '/newroot/sbin/init': { kind: 'file', mode: 0o755, text: '' },
    '/newroot/etc/fstab': INSTALLER_FSTAB,
  });
  sys.kmsgAvailable = false;
  return sys;
}

const fstabOf = (sys: FakeSystem) => {
  const node = sys.files.get('/newroot/etc/fstab');
  return node?.kind === 'file' ? node.text.split('\n') : [];
};
const runs = (sys: FakeSystem) => sys.calls.filter((c) => c.startsWith('run ')).map((c) => c.slice(4));

test('mounts=cow (the default): /data read-only under a RAM overlay, swap off, the union in the fstab, fsck-root', async () => {
  const sys = frozenMachine('overlay=overlayfs');
  await bootFake(sys);
  const commands = runs(sys);
  const from = commands.indexOf('blockdev --setro /dev/vdb1');
  assert.ok(from > commands.indexOf('mount -t overlay -o lowerdir=/run/initramfs/ro,upperdir=/run/initramfs/cow/upper,workdir=/run/initramfs/cow/work overlay /newroot'));
  assert.equal(commands.slice(from, from + 3), [
    'blockdev --setro /dev/vdb1',
    'mount -t ext4 -o ro /dev/vdb1 /run/initramfs/mounts/data/ro',
    'mount -t overlay -o lowerdir=/run/initramfs/mounts/data/ro,upperdir=/run/initramfs/mounts/data/upper,workdir=/run/initramfs/mounts/data/work overlay /newroot/data',
  ]);
  assert.ok(commands.includes('mount -t tmpfs -o mode=0755,size=512000000 cow-mounts /run/initramfs/mounts'));
  const fstab = fstabOf(sys);
  assert.match(fstab[0] ?? '', /^# Written at boot by cowboot/);
  assert.ok(fstab.includes(`# cowboot: the root is the union (overlay=overlayfs): UUID=${ROOT_UUID} /               ext4    errors=remount-ro 0       1`));
  assert.ok(fstab.includes('overlay / overlay rw 0 0'));
  assert.ok(fstab.includes('overlay /data overlay rw,lowerdir=/run/initramfs/mounts/data/ro,upperdir=/run/initramfs/mounts/data/upper,workdir=/run/initramfs/mounts/data/work 0 0'));
  assert.ok(fstab.some((l) => l.startsWith('# cowboot: swap on the disk stays off') && l.endsWith('none            swap    sw              0       0')));
  assert.ok(fstab.includes('/dev/sr0        /media/cdrom0   udf,iso9660 user,noauto     0       0'), 'noauto lines are left as they are');
  assert.ok(fstab.includes('tmpfs /tmp tmpfs nosuid,nodev 0 0'));
  assert.ok(sys.files.has('/run/initramfs/fsck-root'));
});

test('mounts=ro: /data mounted read-only where the fstab puts it; overlay=dm names the snapshot in the fstab', async () => {
  const sys = frozenMachine('overlay=dm mounts=ro');
  await bootFake(sys);
  assert.ok(runs(sys).includes('mount -t ext4 -o ro /dev/vdb1 /newroot/data'));
  const fstab = fstabOf(sys);
  assert.ok(fstab.includes('/dev/vdb1 /data ext4 ro 0 0'));
  assert.ok(fstab.includes('/dev/mapper/cowboot-root / ext4 errors=remount-ro 0 0'));
});

test('mounts=fstab swap: the other lines and swap as the fstab says; only the root line changes', async () => {
  const sys = frozenMachine('overlay=unionfs mounts=fstab swap');
  await bootFake(sys);
  assert.not.ok(runs(sys).some((c) => c.includes('vdb1')), 'nothing is done to /data');
  const fstab = fstabOf(sys);
  assert.ok(fstab.includes(`UUID=${DATA_UUID} /data           ext4    defaults        0       2`));
  assert.ok(fstab.includes('UUID=2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e none            swap    sw              0       0'));
  assert.ok(fstab.includes('unionfs / fuse.unionfs rw 0 0'));
});

test('a local filesystem that is not there is left unmounted and commented out, and the boot goes on', async () => {
  const sys = frozenMachine('overlay=overlayfs', { dataDisk: false });
  await bootFake(sys);
  assert.is(sys.shells, 0);
  assert.ok(fstabOf(sys).some((l) => l.startsWith('# cowboot: not there at boot, so left unmounted: UUID=')));
  assert.ok(sys.console.join('').includes(`UUID=${DATA_UUID} (/data in /etc/fstab) is not there at boot, so it is left unmounted`));
});

test('a data filesystem whose journal needs replaying: mounted through a RAM snapshot', async () => {
  const sys = frozenMachine('overlay=overlayfs', { dirtyData: true });
  await bootFake(sys);
  const commands = runs(sys);
  assert.ok(commands.includes('losetup -f /run/initramfs/mounts/vdb1.replay'), 'the replay of a data filesystem lives with the other filesystems\' changes');
  assert.ok(commands.includes('dmsetup --noudevsync create cowboot-replay-vdb1 --table 0 131072 snapshot /dev/vdb1 /dev/loop0 N 8'));
  assert.ok(commands.includes('mount -t ext4 -o ro /dev/mapper/cowboot-replay-vdb1 /run/initramfs/mounts/data/ro'));
  assert.ok(commands.indexOf('blockdev --setro /dev/vdb1') < commands.indexOf('dmsetup --noudevsync create cowboot-replay-vdb1 --table 0 131072 snapshot /dev/vdb1 /dev/loop0 N 8'));
});

/** An EFI system partition's first sector, as mkfs.vfat -F 32 writes it: volume id ABCD-1234. */
function espSector(): string {
  const b = Buffer.alloc(4096);
  b.write('FAT32   ', 0x52, 'latin1');
  b.writeUInt32LE(0xabcd1234, 0x43);
  b[510] = 0x55;
  b[511] = 0xaa;
  return b.toString('latin1');
}

test('mounts=cow with an EFI system partition: overlayfs takes no vfat, so the ESP is under a RAM snapshot, mounted writable with its options', async () => {
  const sys = frozenMachine('overlay=overlayfs', { dataDisk: false });
  sys.files.set('/sys/class/block/vda2/size', { kind: 'file', mode: 0o444, text: '131072\n' });
  sys.files.set('/dev/vda2', { kind: 'file', mode: 0o600, text: espSector() });
  sys.files.set('/newroot/etc/fstab', { kind: 'file', mode: 0o644, text: `UUID=${ROOT_UUID} / ext4 errors=remount-ro 0 1\nUUID=ABCD-1234 /boot/efi vfat umask=0077 0 1\n` });
  await bootFake(sys);
  assert.is(sys.shells, 0);
  const commands = runs(sys);
  const from = commands.indexOf('blockdev --setro /dev/vda2');
  assert.ok(from > 0, 'the ESP\'s device is set read-only');
  const rest = commands.slice(from);
  assert.ok(rest.some((c) => c.startsWith('dmsetup --noudevsync create cowboot-mount-vda2 --table 0 131072 snapshot /dev/vda2 /dev/loop')), `a snapshot of the ESP:\n${rest.join('\n')}`);
  assert.ok(rest.includes('mount -t vfat -o rw,umask=0077 /dev/mapper/cowboot-mount-vda2 /newroot/boot/efi'));
  assert.not.ok(rest.some((c) => c.includes('lowerdir=/run/initramfs/mounts/boot-efi')), 'no overlayfs over vfat');
  assert.ok(sys.files.has('/run/initramfs/mounts/vda2.mount'), 'its changes in a sparse file on the mounts tmpfs');
  const fstab = fstabOf(sys);
  assert.ok(fstab.includes('# cowboot: under a RAM snapshot (mounts=cow; overlayfs takes no vfat): UUID=ABCD-1234 /boot/efi vfat umask=0077 0 1'));
  assert.ok(fstab.includes('/dev/mapper/cowboot-mount-vda2 /boot/efi vfat rw,umask=0077 0 0'), 'pass 0: no fsck of what cowboot mounted');
});

/** A btrfs superblock with a UUID, and a log tree to replay if asked. */
function btrfs(uuid: string, logTree = false): string {
  const b = Buffer.alloc(0x10400);
  b.write('_BHRfS_M', 0x10040, 'latin1');
  Buffer.from(uuid.replaceAll('-', ''), 'hex').copy(b, 0x10020);
  if (logTree) b.writeUInt32LE(0x1d4000, 0x10060);
  return b.toString('latin1');
}

const SUBVOLUME_FSTAB = `UUID=${ROOT_UUID} / btrfs defaults,subvol=@ 0 0\nUUID=${ROOT_UUID} /home btrfs defaults,subvol=@home 0 0\n`;

function btrfsMachine(cmdline: string, logTree = false): FakeSystem {
  const sys = frozenMachine(`rootflags=subvol=@ ${cmdline}`, { dataDisk: false });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: btrfs(ROOT_UUID, logTree) });
  sys.files.set('/newroot/etc/fstab', { kind: 'file', mode: 0o644, text: SUBVOLUME_FSTAB });
  return sys;
}

test('btrfs subvolumes under overlay=dm: /home is mounted from the root\'s snapshot, as btrfs takes one device per filesystem', async () => {
  const sys = btrfsMachine('overlay=dm');
  await bootFake(sys);
  assert.is(sys.shells, 0);
  const commands = runs(sys);
  assert.ok(commands.includes('mount -t btrfs -o rw,subvol=@ /dev/mapper/cowboot-root /newroot'));
  assert.ok(commands.includes('mount -t btrfs -o rw,subvol=@home /dev/mapper/cowboot-root /newroot/home'));
  assert.not.ok(commands.some((c) => c.includes('/run/initramfs/mounts/home')), 'no overlay of its own');
  assert.ok(fstabOf(sys).includes('/dev/mapper/cowboot-root /home btrfs rw,subvol=@home 0 0'));
});

test('btrfs subvolumes under overlayfs: /home read-only from the same device under a RAM overlay', async () => {
  const sys = btrfsMachine('overlay=overlayfs');
  await bootFake(sys);
  const commands = runs(sys);
  assert.ok(commands.includes('mount -t btrfs -o ro,subvol=@ /dev/vda /run/initramfs/ro'));
  assert.ok(commands.includes('mount -t btrfs -o ro,subvol=@home /dev/vda /run/initramfs/mounts/home/ro'));
  assert.ok(commands.some((c) => c.startsWith('mount -t overlay -o lowerdir=/run/initramfs/mounts/home/ro,')));
});

test('a btrfs log tree to replay: root and /home both mounted from the one RAM snapshot of the device', async () => {
  const sys = btrfsMachine('overlay=overlayfs', true);
  await bootFake(sys);
  assert.is(sys.shells, 0);
  const commands = runs(sys);
  assert.is(commands.filter((c) => c.startsWith('dmsetup --noudevsync create cowboot-replay-vda ')).length, 1);
  assert.ok(commands.includes('mount -t btrfs -o ro,subvol=@ /dev/mapper/cowboot-replay-vda /run/initramfs/ro'));
  assert.ok(commands.includes('mount -t btrfs -o ro,subvol=@home /dev/mapper/cowboot-replay-vda /run/initramfs/mounts/home/ro'));
  assert.match(sys.console.join(''), /\/dev\/vda \(btrfs\) was not cleanly unmounted: its log tree needs replaying; the replay goes into RAM/);
});

test('a retry after the rescue shell finds the replay done and does not make it again', async () => {
  const sys = frozenMachine('overlay=overlayfs rd.break=move-mounts', { dirtyData: true });
  // The user unmounts /data in the shell at rd.break, and the stage before is not run again; so run the fstab stage's work twice by failing once.
  sys.results.set('mount -t overlay -o lowerdir=/run/initramfs/mounts/data/ro,upperdir=/run/initramfs/mounts/data/upper,workdir=/run/initramfs/mounts/data/work overlay /newroot/data', { status: 32, stderr: 'mount: busy' });
  sys.onShell = () => sys.results.delete('mount -t overlay -o lowerdir=/run/initramfs/mounts/data/ro,upperdir=/run/initramfs/mounts/data/upper,workdir=/run/initramfs/mounts/data/work overlay /newroot/data');
  await bootFake(sys);
  assert.is(sys.execveCalls.length, 1, 'the boot ends in the handoff');
  assert.is(runs(sys).filter((c) => c.startsWith('dmsetup --noudevsync create cowboot-replay-vdb1')).length, 1);
  assert.is(runs(sys).filter((c) => c.startsWith('losetup')).length, 1);
});

test('a local filesystem this image cannot mount: its device read-only, left to the booted system read-only, and the boot goes on', async () => {
  const sys = frozenMachine('overlay=overlayfs');
  sys.files.set('/newroot/etc/fstab', { kind: 'file', mode: 0o644, text: `UUID=${ROOT_UUID} / ext4 errors=remount-ro 0 1\nUUID=${DATA_UUID} /data xfs defaults,nofail 0 2\n` });
  await bootFake(sys);
  assert.is(sys.shells, 0);
  assert.ok(runs(sys).includes('blockdev --setro /dev/vdb1'));
  assert.ok(fstabOf(sys).includes(`UUID=${DATA_UUID} /data xfs ro,nofail 0 0`));
  assert.match(sys.console.join(''), /\/data: module xfs did not load: .*; left to the booted system, read-only/);
});

test('overlay=none: the read-only root keeps its fstab; the other filesystems and swap are set read-only', async () => {
  const sys = frozenMachine('overlay=none');
  sys.files.set('/sys/class/block/vdb2/size', { kind: 'file', mode: 0o644, text: '65536\n' });
  sys.files.set('/dev/vdb2', { kind: 'file', mode: 0o600, text: swapArea('2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e') });
  await bootFake(sys);
  assert.is(sys.shells, 0);
  assert.equal(fstabOf(sys), INSTALLER_FSTAB.split('\n'), 'nothing is written into the read-only root');
  const commands = runs(sys);
  assert.ok(commands.includes('blockdev --setro /dev/vdb1'));
  assert.ok(commands.includes('blockdev --setro /dev/vdb2'), 'the swap area, so the booted system cannot turn it on');
  assert.not.ok(commands.some((c) => c.includes('/newroot/data')), 'nothing is mounted for it');
});

test('overlay=none rw: the fstab is used as written, and no fsck is skipped', async () => {
  const sys = frozenMachine('overlay=none rw');
  await bootFake(sys);
  assert.equal(fstabOf(sys), INSTALLER_FSTAB.split('\n'));
  assert.not.ok(sys.files.has('/run/initramfs/fsck-root'));
});

test('printk.devkmsg= on the command line locks the sysctl: nothing is restored at handoff, and the boot goes on', async () => {
  const sys = frozenMachine('overlay=overlayfs printk.devkmsg=on');
  sys.files.set('/proc/sys/kernel/printk_devkmsg', { kind: 'file', mode: 0o644, text: 'on\n' });
  sys.refused.add('/proc/sys/kernel/printk_devkmsg');
  await bootFake(sys);
  assert.is(sys.shells, 0);
  assert.is(sys.execveCalls.length, 1);
  assert.not.ok(sys.calls.includes('write /newroot/proc/sys/kernel/printk_devkmsg'), 'what the kernel refused to change is not ours to restore');
});

test.run();
