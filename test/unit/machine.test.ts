import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot } from '../../src/boot';
import type { Context, Stage } from '../../src/context';
import { DEFAULT_CONFIG } from '../../src/config';
import { BootError } from '../../src/errors';
import { Log } from '../../src/log';
import { type Failure, runStages } from '../../src/machine';
import { fakeSystem, type FakeSystem } from './fake-system';

function context(sys: FakeSystem): Context {
  return { sys, log: new Log(sys), config: DEFAULT_CONFIG, state: { initArgs: [], initEnv: {}, rootFsType: null, devkmsgBefore: null } };
}

/** What reaches the console: our own writes and the kmsg records the kernel echoes. */
const seen = (sys: FakeSystem) => [...sys.console, ...sys.kmsg].join('');

const recording = (name: string, order: string[]): Stage => ({ name, run: async () => void order.push(name) });

test('stages run in order, each logged with its duration', async () => {
  const sys = fakeSystem();
  const ctx = context(sys);
  const order: string[] = [];
  await runStages([recording('a', order), recording('b', order)], ctx, async () => assert.unreachable());
  assert.equal(order, ['a', 'b']);
  const texts = ctx.log.records.map((r) => r.text);
  assert.equal(texts[0], 'stage a: start');
  assert.match(texts[1] ?? '', /^stage a: done in \d+ ms$/);
  assert.equal(texts[2], 'stage b: start');
});

test('a failure reports stage, command and hint, goes to rescue, then retries the same stage', async () => {
  const sys = fakeSystem();
  const ctx = context(sys);
  let attempts = 0;
  const flaky: Stage = {
    name: 'flaky',
    async run() {
      if (++attempts === 1) throw new BootError('mount exited with status 1', { command: ['mount', '-o', 'ro', '/dev/my disk', '/x'], hint: 'try harder' });
    },
  };
  const order: string[] = [];
  const rescued: Failure[] = [];
  await runStages([recording('first', order), flaky, recording('last', order)], ctx, async (_ctx, f) => void rescued.push(f));
  assert.is(attempts, 2);
  assert.equal(order, ['first', 'last'], 'stages before the failed one are not run again');
  assert.equal(rescued.map((f) => f.stage), ['flaky']);
  const errors = ctx.log.records.filter((r) => r.level === 'error').map((r) => r.text);
  assert.equal(errors.slice(0, 3), ['stage flaky failed: mount exited with status 1', "  command: mount -o ro '/dev/my disk' /x", '  hint: try harder']);
  assert.ok(ctx.log.records.some((r) => r.text === 'stage flaky: trying again'));
});

const GOOD_ROOT = {
  '/proc/cmdline': 'console=ttyS0 root=/dev/vda overlay=unionfs\n',
  '/proc/sys/kernel/printk': '7\t4\t1\t7\n',
  '/proc/sys/kernel/printk_devkmsg': 'ratelimit\n',
  '/newroot/sbin/init': { kind: 'symlink', target: '/bin/busybox' },
  '/newroot/bin/busybox': { kind: 'file', mode: 0o755, text: '' },
  '/newroot/dev': { kind: 'dir' },
} as const;

// The whole boot against the fake: every command, in order, with its exact arguments.
test('a unionfs boot runs exactly these commands, then execs switch_root with the kernel arguments', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: `${'\0'.repeat(1080)}\x53\xef` });
  const rejected: unknown[] = [];
  await boot(sys, ['single'], { HOME: '/', TERM: 'linux' }).catch((e: unknown) => rejected.push(e));
  assert.equal(rejected, []);
  const commands = sys.calls.filter((c) => c.startsWith('run ') || c.startsWith('execve'));
  assert.equal(commands, [
    'run mount -t proc -o nosuid,nodev,noexec proc /proc',
    'run mount -t sysfs -o nosuid,nodev,noexec sysfs /sys',
    'run mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev',
    'run mount -t devpts -o gid=5,mode=620,nosuid,noexec devpts /dev/pts',
    'run mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run',
    'run modprobe -a virtio_pci virtio_blk virtio_scsi ahci ata_piix nvme sd_mod sr_mod xhci_pci ehci_pci ohci_pci uhci_hcd usb_storage uas',
    'run modprobe -a fuse',
    'run modprobe ext4',
    'run mount -t ext2 -o ro /dev/vda /run/initramfs/ro',
    'run mount -t tmpfs -o mode=0755 cow /run/initramfs/cow',
    'run unionfs -o allow_other,use_ino,suid,dev,nonempty,kernel_cache -o cow,chroot=/run/initramfs,max_files=32768 /cow/upper=RW:/ro=RO /newroot',
    'run mount --move /dev /newroot/dev',
    'run mount --move /proc /newroot/proc',
    'run mount --move /sys /newroot/sys',
    'run mount --move /run /newroot/run',
    'execve /sbin/switch_root switch_root /newroot /sbin/init single',
  ]);
  assert.is(sys.shells, 0);
  const log = sys.files.get('/newroot/run/initramfs/init.log');
  assert.ok(log?.kind === 'file' && log.text.includes('stage union: done'), 'the log is handed to the new root before execve');
  assert.ok(sys.calls.indexOf('write /newroot/run/initramfs/init.log') < sys.calls.findIndex((c) => c.startsWith('execve')));
  assert.ok(sys.kmsg.some((r) => r.startsWith('<6>cowboot: stage handoff: start')));
  assert.ok(sys.files.has('/newroot/sys'), 'a missing mount point is made in the new root');
  assert.equal(sys.mounts.filter((m) => m.startsWith('/newroot/run')), ['/newroot/run', '/newroot/run/initramfs/ro', '/newroot/run/initramfs/cow']);
});

test('no init arguments from the kernel: runlevel 5, as in the seed', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'hsqs' });
  await boot(sys, [], {});
  assert.equal(sys.execveCalls[0]?.argv, ['switch_root', '/newroot', '/sbin/init', '5']);
});

test('a missing init is caught before switch_root, and the rescue shell opens', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT, '/proc/cmdline': 'root=/dev/vda init=/sbin/nope' });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'hsqs' });
  let shells = 0;
  sys.onShell = () => {
    // The user puts an init in place from the rescue shell.
    if (++shells === 1) sys.files.set('/newroot/sbin/nope', { kind: 'file', mode: 0o755, text: '' });
  };
  await boot(sys, [], {});
  assert.is(shells, 1);
  assert.match(seen(sys), 'init /sbin/nope not found in the new root: /sbin/nope does not exist');
  assert.match(seen(sys), 'cowboot rescue shell');
  assert.equal(sys.execveCalls.length, 1, 'handed over after the retry');
});

test('a failing execve (switch_root missing) is a failure, not an exit', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'hsqs' });
  let calls = 0;
  sys.execve = (file) => {
    if (++calls === 1) throw Object.assign(new Error(`ENOENT, No such file or directory '${file}'`), { code: 'ENOENT' });
    return undefined as never;
  };
  await boot(sys, [], {});
  assert.is(calls, 2);
  assert.match(seen(sys), 'stage handoff failed: could not start /sbin/switch_root: ENOENT');
});

test('bad command line: the rescue path names every problem', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT, '/proc/cmdline': 'root=/dev/vda overlay=aufs rootdelay=x' });
  let shells = 0;
  sys.onShell = () => {
    if (++shells === 1) sys.files.set('/proc/cmdline', { kind: 'file', mode: 0o444, text: 'root=/dev/vda' });
  };
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'hsqs' });
  await boot(sys, [], {});
  const out = seen(sys);
  assert.match(out, /overlay=aufs is not valid: expected one of unionfs, dm, overlayfs, none/);
  assert.match(out, /rootdelay=x is not valid/);
  assert.equal(sys.calls.filter((c) => c.startsWith('run modprobe')).length > 0, true, 'booted on after the fix');
});

test('a root device that never appears: the hint lists the block devices seen', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT, '/proc/cmdline': 'root=/dev/sdz rootdelay=2', '/sys/class/block/vda': { kind: 'dir' }, '/sys/class/block/sr0': { kind: 'dir' } });
  let shells = 0;
  sys.onShell = () => {
    if (++shells === 1) sys.files.set('/dev/sdz', { kind: 'file', mode: 0o600, text: 'hsqs' });
  };
  await boot(sys, [], {});
  const out = seen(sys);
  assert.match(out, /root device \/dev\/sdz did not appear within 2 s/);
  assert.match(out, /hint: block devices seen: sr0 vda/);
  assert.ok(sys.calls.includes('wait /dev/sdz 2000'));
});

test.run();
