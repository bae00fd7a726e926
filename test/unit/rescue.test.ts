import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashPassword, verifyPassword } from '../../src/formats/password-hash';
import { emergencyDelay } from '../../src/core/rescue';
import { bootFake, fakeSystem, type FakeSystem } from './fake-system';

const BASE = {
  '/proc/sys/kernel/printk': '4\t4\t1\t7\n',
  '/proc/meminfo': 'MemTotal:        1000000 kB\nMemAvailable:     950000 kB\n',
  '/proc/filesystems': 'nodev\tsysfs\nnodev\tproc\n\text4\n\text3\n\text2\n\tsquashfs\n',
  '/newroot/sbin/init': { kind: 'file', mode: 0o755, text: '' },
} as const;

function machine(cmdline: string, extra: Record<string, string> = {}): FakeSystem {
  const sys = fakeSystem({ ...BASE, '/proc/cmdline': cmdline, ...extra });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: `${'\0'.repeat(1080)}\x53\xef` });
  // Without /dev/kmsg every line reaches the console through us, where the tests read it.
  sys.kmsgAvailable = false;
  return sys;
}



const out = (sys: FakeSystem) => sys.console.join('');

test('panic= sets the emergency delay: unset 5 s, 0 for ever, negative at once', () => {
  assert.is(emergencyDelay(null), 5);
  assert.is(emergencyDelay(0), null);
  assert.is(emergencyDelay(-1), 0);
  assert.is(emergencyDelay(30), 30);
});

test('rd.shell=0: no shell; the error, the delay from panic=, then a forced reboot', async () => {
  const sys = machine('root=/dev/sdz rootdelay=1 rd.shell=0 panic=7');
  await bootFake(sys, () => sys.calls.includes('run reboot -f'));
  assert.is(sys.shells, 0);
  assert.match(out(sys), 'root device /dev/sdz did not appear within 1 s');
  assert.match(out(sys), 'stage root failed and rd.shell=0 allows no shell; reboot in 7 s (rd.emergency=reboot, panic=7)');
  const tail = sys.calls.slice(-3);
  assert.equal(tail, ['write /run/initramfs/init.log', 'run sync', 'run reboot -f']);
});

test('rd.emergency=poweroff powers off; panic=0 waits for ever instead', async () => {
  const off = machine('root=/dev/sdz rootdelay=1 rd.shell=0 rd.emergency=poweroff panic=-1');
  await bootFake(off, () => off.calls.includes('run poweroff -f'));
  const forever = machine('root=/dev/sdz rootdelay=1 rd.shell=0 panic=0');
  await bootFake(forever, () => out(forever).includes('panic=0: waiting for ever'));
  for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
  assert.not.ok(forever.calls.some((c) => /run (reboot|poweroff|halt)/.test(c)));
});

test('rd.shell=0 is honoured even when another parameter is wrong', async () => {
  const sys = machine('root=/dev/vda overlay=aufs rd.shell=0 panic=1');
  await bootFake(sys, () => sys.calls.includes('run reboot -f'));
  assert.is(sys.shells, 0);
  assert.match(out(sys), 'overlay=aufs is not valid: expected one of unionfs, dm, overlayfs, none');
});

test('rd.break=union opens a shell before the union, then the boot goes on', async () => {
  const sys = machine('root=/dev/vda rd.break=union');
  await bootFake(sys);
  assert.is(sys.shells, 1);
  assert.match(out(sys), 'Boot stopped before stage "union", as rd.break asked');
  const shellAt = sys.calls.findIndex((c) => c.startsWith('shell '));
  const unionAt = sys.calls.findIndex((c) => c.includes(' unionfs '));
  const moveAt = sys.calls.findIndex((c) => c.startsWith('run mount -t tmpfs -o mode=0755 cow'));
  assert.ok(moveAt < shellAt && shellAt < unionAt, 'the shell comes between cow and union');
  assert.equal(sys.execveCalls.length, 1);
});

test('rd.break alone stops before the handoff, as dracut does', async () => {
  const sys = machine('root=/dev/vda rd.break');
  await bootFake(sys);
  assert.match(out(sys), 'Boot stopped before stage "handoff"');
});

test('the rescue password: wrong, then right, opens the shell', async () => {
  const sys = machine('root=/dev/sdz rootdelay=1', { '/etc/cowboot.json': JSON.stringify({ 'rd.rescue-password': hashPassword('s3cret') }) });
  sys.secrets.push('guess', 's3cret');
  let shells = 0;
  sys.onShell = () => {
    if (++shells === 1) sys.files.set('/dev/sdz', sys.files.get('/dev/vda')!);
  };
  await bootFake(sys);
  assert.is(shells, 1);
  assert.match(out(sys), 'wrong rescue password (attempt 1 of 3)');
});

test('three wrong passwords: no shell, rd.emergency', async () => {
  const sys = machine('root=/dev/sdz rootdelay=1 panic=1', { '/etc/cowboot.json': JSON.stringify({ 'rd.rescue-password': hashPassword('s3cret') }) });
  sys.secrets.push('a', 'b', 'c');
  await bootFake(sys, () => sys.calls.includes('run reboot -f'));
  assert.is(sys.shells, 0);
  assert.match(out(sys), '3 wrong rescue passwords; reboot in 1 s');
});

test('a password hash round trip; a wrong password and a malformed hash fail', () => {
  const hash = hashPassword('correct horse');
  assert.match(hash, /^scrypt:16384:8:1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
  assert.ok(verifyPassword('correct horse', hash));
  assert.not.ok(verifyPassword('correct horse!', hash));
  assert.not.ok(verifyPassword('x', 'md5:abc'));
});

test('the password cannot come from the command line', async () => {
  const sys = machine(`root=/dev/vda rd.rescue-password=${hashPassword('x')}`);
  let shells = 0;
  sys.onShell = () => {
    if (++shells === 1) sys.files.set('/proc/cmdline', { kind: 'file', mode: 0o444, text: 'root=/dev/vda' });
  };
  await bootFake(sys);
  assert.match(out(sys), 'rd.rescue-password=scrypt:');
  assert.match(out(sys), 'expected nothing: it can only be set in the image config');
});

test('wrong rootfstype: the hint says what the device looks like and what the kernel can mount', async () => {
  const sys = machine('root=/dev/vda rootfstype=squashfs');
  sys.results.set('mount -t squashfs -o ro /dev/vda /run/initramfs/ro', { status: 255, stderr: 'mount: mounting /dev/vda on /run/initramfs/ro failed: Invalid argument' });
  sys.onShell = () => sys.results.delete('mount -t squashfs -o ro /dev/vda /run/initramfs/ro');
  await bootFake(sys);
  assert.match(out(sys), 'hint: /dev/vda was mounted as squashfs (rootfstype=) and it looks like ext2; modules tried: squashfs; the kernel can mount: ext4 ext3 ext2 squashfs');
});

test('no filesystem signature: the hint lists what the kernel can mount', async () => {
  const sys = machine('root=/dev/vda');
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'garbage' });
  sys.onShell = () => sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'hsqs' });
  await bootFake(sys);
  assert.match(out(sys), 'no known filesystem on /dev/vda');
  assert.match(out(sys), 'hint: the kernel can mount: ext4 ext3 ext2 squashfs; no driver was loaded for it');
});

test.run();
