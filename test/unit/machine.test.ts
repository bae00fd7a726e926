import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { boot, createContext } from '../../src/boot';
import type { Context } from '../../src/core/context';
import type { Stage } from '../../src/stages/results';
import { DEFAULT_CONFIG } from '../../src/config';
import { BootError } from '../../src/core/errors';
import type { Failure } from '../../src/core/errors';
import { type Policy, runStages } from '../../src/core/machine';
import type { StageName } from '../../src/config/stage-names';
import { fakeSystem, type FakeSystem, insmod } from './fake-system';

function context(sys: FakeSystem): Context {
  return createContext(sys, [], {});
}

/** What reaches the console: our own writes and the kmsg records the kernel echoes. */
const seen = (sys: FakeSystem) => [...sys.console, ...sys.kmsg].join('');

const recording = (name: StageName, order: string[]): Stage => ({ name, run: async () => void order.push(name) });

const noStops: Policy = { onFailure: async () => assert.unreachable('no failure expected'), onBreak: async () => assert.unreachable('no break expected') };

/** boot() with the fake, as main.ts runs it for real. */
const bootWith = (sys: FakeSystem, args: string[] = [], env: Record<string, string> = {}) => boot(createContext(sys, args, env));

test('stages run in order, each logged with its duration', async () => {
  const sys = fakeSystem();
  const ctx = context(sys);
  const order: string[] = [];
  await runStages([recording('root', order), recording('cow', order)], ctx, noStops);
  assert.equal(order, ['root', 'cow']);
  const texts = ctx.log.records.map((r) => r.text);
  assert.equal(texts[0], 'stage root: start');
  assert.match(texts[1] ?? '', /^stage root: done in \d+ ms$/);
  assert.equal(texts[2], 'stage cow: start');
});

test('a failure reports stage, command and hint, goes to rescue, then retries the same stage', async () => {
  const sys = fakeSystem();
  const ctx = context(sys);
  let attempts = 0;
  const flaky: Stage = {
    name: 'union',
    async run() {
      if (++attempts === 1) throw new BootError('mount exited with status 1', { command: ['mount', '-o', 'ro', '/dev/my disk', '/x'], hint: 'try harder' });
    },
  };
  const order: string[] = [];
  const rescued: Failure[] = [];
  const policy = { ...noStops, onFailure: async (_ctx: Context, f: Failure) => void rescued.push(f) };
  await runStages([recording('cow', order), flaky, recording('handoff', order)], ctx, policy);
  assert.is(attempts, 2);
  assert.equal(order, ['cow', 'handoff'], 'stages before the failed one are not run again');
  assert.equal(rescued.map((f) => f.stage), ['union']);
  const errors = ctx.log.records.filter((r) => r.level === 'error').map((r) => r.text);
  assert.equal(errors.slice(0, 3), ['stage union failed: mount exited with status 1', "  command: mount -o ro '/dev/my disk' /x", '  hint: try harder']);
  assert.ok(ctx.log.records.some((r) => r.text === 'stage union: trying again'));
});

test('rd.break stops once before each named stage, also when that stage is retried', async () => {
  const sys = fakeSystem();
  const ctx = { ...context(sys), config: { ...DEFAULT_CONFIG, breakAt: ['cow', 'handoff'] as StageName[] } };
  const events: string[] = [];
  let failedOnce = false;
  const cow: Stage = {
    name: 'cow',
    async run() {
      events.push('cow');
      if (!failedOnce) {
        failedOnce = true;
        throw new Error('first try fails');
      }
    },
  };
  const policy: Policy = { onFailure: async () => void events.push('failure'), onBreak: async (_c, stage) => void events.push(`break ${stage}`) };
  await runStages([recording('root', events), cow, recording('handoff', events)], ctx, policy);
  assert.equal(events, ['root', 'break cow', 'cow', 'failure', 'cow', 'break handoff', 'handoff']);
});

const GOOD_ROOT = {
  '/proc/cmdline': 'console=ttyS0 root=/dev/vda overlay=unionfs\n',
  '/proc/sys/kernel/printk': '7\t4\t1\t7\n',
  '/proc/sys/kernel/printk_devkmsg': 'ratelimit\n',
  '/proc/meminfo': 'MemTotal:        1000000 kB\nMemFree:          900000 kB\nMemAvailable:     950000 kB\n',
  '/newroot/sbin/init': { kind: 'symlink', target: '/bin/busybox' },
  '/newroot/bin/busybox': { kind: 'file', mode: 0o755, text: '' },
  '/newroot/dev': { kind: 'dir' },
  '/proc/321/cmdline': '@unionfs\0-o\0allow_other\0/cow/upper=RW:/ro=RO\0/newroot\0',
  '/proc/322/cmdline': 'sh\0/newroot\0',
} as const;

// The whole boot against the fake: every command, in order, with its exact arguments.
test('a unionfs boot runs exactly these commands, then execs switch_root with the kernel arguments', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: `${'\0'.repeat(1080)}\x53\xef` });
  const rejected: unknown[] = [];
  await bootWith(sys, ['single'], { HOME: '/', TERM: 'linux' }).catch((e: unknown) => rejected.push(e));
  assert.equal(rejected, []);
  const commands = sys.calls.filter((c) => c.startsWith('run ') || c.startsWith('execve'));
  assert.equal(commands, [
    'run mount -t proc -o nosuid,nodev,noexec proc /proc',
    'run mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev',
    'run mount -t sysfs -o nosuid,nodev,noexec sysfs /sys',
    'run mount -t devpts -o gid=5,mode=620,nosuid,noexec devpts /dev/pts',
    'run mount -t tmpfs -o mode=0755,nosuid,nodev,strictatime tmpfs /run',
    insmod('fs/fuse/fuse.ko'),
    insmod('drivers/virtio/virtio_blk.ko'),
    'run blockdev --setro /dev/vda',
    insmod('fs/ext4/ext4.ko'),
    'run mount -t ext2 -o ro /dev/vda /run/initramfs/ro',
    'run mount -t tmpfs -o mode=0755,size=512000000 cow-mounts /run/initramfs/mounts',
    'run mount -t tmpfs -o mode=0755,size=512000000 cow /run/initramfs/cow',
    'run (argv0 @unionfs) unionfs -o allow_other,use_ino,suid,dev,nonempty,kernel_cache -o entry_timeout=1000000000,negative_timeout=1000000000,attr_timeout=1000000000 -o cow,chroot=/run/initramfs,max_files=32768 -o fsname=unionfs,subtype=unionfs /cow/upper=RW:/ro=RO /newroot',
    'run mount --move /dev /newroot/dev',
    'run mount --move /proc /newroot/proc',
    'run mount --move /sys /newroot/sys',
    'run mount --move /run /newroot/run',
    'run chroot /newroot /run/initramfs/bin/busybox sh /run/initramfs/fill-watch',
    'execve /sbin/switch_root switch_root /newroot /sbin/init single',
  ]);
  assert.is(sys.shells, 0);
  const log = sys.files.get('/newroot/run/initramfs/init.log');
  assert.ok(log?.kind === 'file' && log.text.includes('stage union: done'), 'the log is handed to the new root before execve');
  assert.ok(sys.calls.indexOf('write /newroot/run/initramfs/init.log') < sys.calls.findIndex((c) => c.startsWith('execve')));
  assert.ok(sys.kmsg.some((r) => r.startsWith('<6>cowboot: stage handoff: start')));
  assert.ok(sys.files.has('/newroot/sys'), 'a missing mount point is made in the new root');
  assert.equal(sys.files.get('/run/sendsigs.omit.d/cowboot-unionfs'), { kind: 'file', mode: 0o644, text: '321\n' });
  assert.equal(sys.files.get('/proc/321/oom_score_adj'), { kind: 'file', mode: 0o644, text: '-1000\n' }, 'the daemon serving the root is never killed for memory');
  assert.is(sys.execveCalls[0]?.env?.SYSTEMD_IN_INITRD, '0', 'systemd-shutdown is told it is not in an initrd, so it does not look for /etc/initrd-release on the union');
  assert.ok(sys.files.has('/run/initramfs/fsck-root'), 'sysvinit is told the root needs no fsck');
  assert.equal(sys.mounts.filter((m) => m.startsWith('/newroot/run')), ['/newroot/run', '/newroot/run/initramfs/ro', '/newroot/run/initramfs/mounts', '/newroot/run/initramfs/cow']);
});

test('no init arguments from the kernel: runlevel 5, as in the seed', async () => {
  const sys = fakeSystem({ ...GOOD_ROOT });
  sys.files.set('/dev/vda', { kind: 'file', mode: 0o600, text: 'hsqs' });
  await bootWith(sys);
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
  await bootWith(sys);
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
  await bootWith(sys);
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
  await bootWith(sys);
  const out = seen(sys);
  assert.match(out, /overlay=aufs is not valid: expected one of unionfs, dm, overlayfs, none/);
  assert.match(out, /rootdelay=x is not valid/);
  assert.ok(sys.calls.includes(insmod('fs/fuse/fuse.ko')), 'booted on after the fix');
});

test('a root device that never appears: the hint lists the block devices seen', async () => {
  const sys = fakeSystem({
    ...GOOD_ROOT,
    '/proc/cmdline': 'root=/dev/sdz rootdelay=2',
    '/sys/class/block/vda/size': '131072',
    '/dev/vda': `${'\0'.repeat(1080)}\x53\xef`,
    '/sys/class/block/sr0/size': '0',
  });
  let shells = 0;
  sys.onShell = () => {
    if (++shells === 1) sys.files.set('/dev/sdz', { kind: 'file', mode: 0o600, text: 'hsqs' });
  };
  await bootWith(sys);
  const out = seen(sys);
  assert.match(out, /root device \/dev\/sdz did not appear within 2 s/);
  assert.match(out, /hint: block devices seen: vda ext2;/);
  assert.ok(sys.calls.includes('wait-device 0 1000'), 'woken by /dev events, with a safety-net tick');
});

test.run();
