// LVM and LUKS assembly: the parameters, which volumes are activated and
// which are left alone, the LUKS2 header's memory ask, and the passphrase's
// path through the fake system (stdin only, three tries, then a failure).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createContext } from '../../src/boot';
import { configFromCmdline, configFromText, describeProblem, mergeConfig, normalizeConfigText } from '../../src/config';
import { parseCmdline } from '../../src/formats/cmdline';
import { argon2MemoryBytes, luks2HeaderBytes } from '../../src/formats/luks2-header';
import { mapperName, parseLvs, wanted, whyNotActivated } from '../../src/storage/lvm';
import { openLuks } from '../../src/storage/luks';
import { isReadOnly, kernelName, sectors } from '../../src/storage/block';
import { assembleVolumes } from '../../src/storage/volumes';
import { assembleMd } from '../../src/storage/md';
import { raid1Superblock } from '../../scripts/vm/md-disks';
import { scanBlockDevices } from '../../src/storage/scan';
import type { Services } from '../../src/kmod/services';
import { requireOneDevice } from '../../src/storage/filesystem';
import type { BlockDevice } from '../../src/storage/scan';
import { readHead } from '../../src/sys/read-head';
import { fakeSystem } from './fake-system';
import { crypttabUse, parseCrypttab } from '../../src/formats/crypttab';
import { openVolumes, parseVolumesOption } from '../../builder/volume-tools';

const UUID = '9c5d4e3f-7a6b-4c8d-8e9f-1a2b3c4d5e6f';

test('rd.luks.uuid= and rd.lvm.*= may repeat, and each value counts; luks- in front is dropped', () => {
  const { values, problems } = configFromCmdline(parseCmdline(`rd.luks.uuid=luks-${UUID.toUpperCase()} rd.luks.uuid=1a2b3c4d-0000-4000-8000-000000000000 rd.lvm.vg=vg0 rd.lvm.lv=vg1/root,vg1/home rd.md.uuid=11223344:55664778:899aabbc:cddeeff0`));
  assert.equal(problems, []);
  assert.equal(values.mdUuids, ['11223344-5566-4778-899a-abbccddeeff0']);
  assert.equal(values.luksUuids, [UUID, '1a2b3c4d-0000-4000-8000-000000000000']);
  assert.equal(values.lvmVgs, ['vg0']);
  assert.equal(values.lvmLvs, ['vg1/root', 'vg1/home']);
});

test('rd.luks.key=PATH:DEVICE, dracut\'s key on a device', () => {
  assert.equal(configFromCmdline(parseCmdline('rd.luks.key=/keys/root.key:LABEL=KEYS')).values.luksKey, '/keys/root.key:LABEL=KEYS');
  assert.match(describeProblem(configFromCmdline(parseCmdline('rd.luks.key=/keys/root.key:sticky')).problems[0]!), 'rd.luks.key=/keys/root.key:sticky is not valid');
});

test('bad volume parameters are named with what is valid', () => {
  const messages = configFromCmdline(parseCmdline('rd.luks.uuid=sda3_crypt rd.luks.key=keys/root.key rd.lvm.lv=root')).problems.map(describeProblem);
  assert.equal(messages, [
    'command line: rd.luks.uuid=sda3_crypt is not valid: expected LUKS UUIDs (as blkid shows them, "luks-" in front or not), separated by commas or each in its own rd.luks.uuid=',
    'command line: rd.luks.key=keys/root.key is not valid: expected the absolute path of a key file in the image (cowboot build --add-file), such as /etc/keys/root.key, or PATH:DEVICE for one on a device, such as /root.key:LABEL=KEYS',
    'command line: rd.lvm.lv=root is not valid: expected logical volumes as VG/LV, separated by commas or each in its own rd.lvm.lv=',
  ]);
});

const LVS = ['  vg0|root|-wi-------|linear', '  vg0|home|-wi-a-----|linear', '  vg0|mirror|rwi-------|raid1', '  vg0|snap|swi-------|linear', '  vg-1|data-x|-wi-------|striped', ''].join('\n');

test('LVM: only linear and striped volumes, never a snapshot or its origin; rd.lvm.vg and rd.lvm.lv pick among them', () => {
  const volumes = parseLvs(LVS);
  assert.equal(volumes.map((v) => `${v.vg}/${v.lv} ${whyNotActivated(v) === null ? 'ok' : 'left'}`), ['vg0/root ok', 'vg0/home ok', 'vg0/mirror left', 'vg0/snap left', 'vg-1/data-x ok']);
  assert.equal(wanted(volumes, [], []).length, 5);
  assert.equal(wanted(volumes, ['vg-1'], ['vg0/root']).map((v) => v.lv), ['root', 'data-x']);
  assert.is(mapperName({ vg: 'vg-1', lv: 'data-x' }), 'vg--1-data--x');
});

test('LUKS2 header: argon2id\'s memory ask read from the JSON area, as cryptsetup wrote it; none for PBKDF2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cowboot-luks-'));
  try {
    const image = join(dir, 'c.img');
    writeFileSync(image, '');
    truncateSync(image, 32 * 2 ** 20);
    const format = (kdf: string[]) => execFileSync('cryptsetup', ['luksFormat', '--type', 'luks2', '--batch-mode', '--key-file=-', ...kdf, image], { input: 'x' });
    format(['--pbkdf', 'argon2id', '--pbkdf-memory', '65536', '--pbkdf-force-iterations', '4']);
    const head = readHead(image, 4096);
    assert.is(luks2HeaderBytes(head), 16384);
    assert.is(argon2MemoryBytes(readHead(image, luks2HeaderBytes(head))), 64 * 2 ** 20);
    format(['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000']);
    assert.is(argon2MemoryBytes(readHead(image, 16384)), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const DEVICE: BlockDevice = { name: 'vda', path: '/dev/vda', fs: { type: 'crypto_LUKS', label: null, uuid: UUID }, partuuid: null, partlabel: null, ours: false };
const OPENING = { name: `luks-${UUID}`, readOnly: true, keyFile: null };
const OPEN = `cryptsetup open --type luks --readonly --disable-locks --disable-external-tokens --tries=1 --key-file=- /dev/vda luks-${UUID}`;

function luksContext(cmdline = '') {
  const sys = fakeSystem({ '/dev/vda': 'LUKS\xba\xbe\0\x01', '/proc/meminfo': 'MemTotal: 1000000 kB\nMemAvailable: 900000 kB\n' });
  const ctx = createContext(sys, [], {});
  ctx.config = mergeConfig(configFromCmdline(parseCmdline(cmdline)).values);
  return { sys, ctx };
}

test('LUKS: the passphrase goes to cryptsetup on stdin only, never in argv nor the log; a wrong one is asked again', async () => {
  const { sys, ctx } = luksContext();
  sys.secrets.push('wrong', 'right one');
  let tries = 0;
  const run = sys.run.bind(sys);
  sys.run = async (argv, options) => {
    const result = await run(argv, options);
    return argv.join(' ') === OPEN && ++tries === 1 ? { ...result, status: 2, stderr: 'No key available with this passphrase.' } : result;
  };
  assert.is(await openLuks(ctx, DEVICE, OPENING), `/dev/mapper/luks-${UUID}`);
  assert.equal(sys.inputs, ['wrong', 'right one']);
  const said = [...sys.calls, ...sys.console, ...sys.kmsg].join('\n');
  assert.not.ok(said.includes('right one') || said.includes('wrong\n'));
  assert.match(sys.console.join(''), /wrong passphrase for \/dev\/vda \(attempt 1 of 3\)/);
});

test('LUKS: three wrong passphrases fail the boot, naming the device; no console to ask on fails at once', async () => {
  const { sys, ctx } = luksContext();
  sys.secrets.push('a', 'b', 'c');
  sys.results.set(OPEN, { status: 2 });
  try {
    await openLuks(ctx, DEVICE, OPENING);
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, `3 wrong passphrases for /dev/vda (LUKS UUID=${UUID})`);
  }
  try {
    await openLuks(ctx, DEVICE, OPENING);
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /the console cannot be read to ask for its passphrase/);
  }
});

test('LUKS: a key file that is not there is named as it was given', async () => {
  const { ctx } = luksContext();
  try {
    await openLuks(ctx, DEVICE, { ...OPENING, keyFile: { path: '/etc/keys/root.key', given: 'rd.luks.key=/etc/keys/root.key', hint: '' } });
    assert.unreachable();
  } catch (error) {
    assert.is((error as Error).message, 'rd.luks.key=/etc/keys/root.key: no such file');
  }
});

test('rd.luks.name=UUID=NAME, systemd\'s form', () => {
  const { values, problems } = configFromCmdline(parseCmdline(`rd.luks.name=${UUID}=cryptroot rd.luks.name=luks-1a2b3c4d-0000-4000-8000-000000000000=home_crypt`));
  assert.equal(problems, []);
  assert.equal(values.luksNames, [`${UUID}=cryptroot`, '1a2b3c4d-0000-4000-8000-000000000000=home_crypt']);
  const { json, problems: fileProblems } = normalizeConfigText(JSON.stringify({ 'rd.luks.name': values.luksNames }), 'cowboot.json');
  assert.equal(fileProblems, []);
  assert.equal(configFromText(json, 'image').values.luksNames, values.luksNames);
  assert.match(describeProblem(configFromCmdline(parseCmdline('rd.luks.name=cryptroot')).problems[0]!), 'rd.luks.name=cryptroot is not valid: expected UUID=NAME');
});

test('build --volumes auto: the kinds of volume open on the build machine (an LV in a LUKS container here)', () => {
  const uuids: Record<string, string> = { '/sys/class/block/dm-1/dm/uuid': 'LVM-abcdef', '/sys/class/block/dm-0/dm/uuid': `CRYPT-LUKS2-${UUID.replaceAll('-', '')}-luks-${UUID}` };
  const lists: Record<string, string[]> = { '/sys/class/block': ['nvme0n1', 'nvme0n1p3', 'dm-0', 'dm-1'], '/sys/class/block/dm-1/slaves': ['dm-0'], '/sys/class/block/dm-0/slaves': ['nvme0n1p3'] };
  assert.equal(openVolumes({ text: (path) => uuids[path] ?? '', list: (path) => lists[path] ?? [] }), ['lvm', 'luks']);
  assert.equal(openVolumes({ text: () => '', list: (path) => (path === '/sys/class/block' ? ['sda', 'sda1'] : []) }), []);
  assert.equal(parseVolumesOption('lvm,luks'), ['lvm', 'luks']);
  assert.equal(parseVolumesOption('none'), []);
  assert.throws(() => parseVolumesOption('zfs'), /--volumes zfs is not valid: expected auto, none, or a list of lvm, luks, md, nbd separated by commas/);
});

test('crypttab: Debian\'s lines; swap and tmp never opened (the booted system would format them), noauto and plain ones left alone', () => {
  const lines = parseCrypttab(['# <target name> <source device> <key file> <options>', `vda3_crypt UUID=${UUID} none luks,discard`, 'home_crypt /dev/vdb1 /etc/keys/home.key luks', 'cryptswap /dev/vdc /dev/urandom swap,cipher=aes-xts-plain64,size=256', 'usb /dev/sdb1 none luks,noauto', 'old /dev/sdc1 - plain', ''].join('\n'));
  const entries = lines.flatMap((l) => (l.kind === 'entry' ? [l.entry] : []));
  assert.equal(entries.map((e) => [e.name, e.keyFile, crypttabUse(e).open]), [['vda3_crypt', null, true], ['home_crypt', '/etc/keys/home.key', true], ['cryptswap', '/dev/urandom', false], ['usb', null, false], ['old', null, false]]);
  assert.equal(entries[0]!.device, { kind: 'uuid', value: UUID });
  const swap = crypttabUse(entries[2]!);
  assert.equal(swap, { open: false, why: 'swap: the booted system would format /dev/vdc as it opens it', formats: true });
});

test('a btrfs on several devices is refused a snapshot (dm, a replay), which would cover one device only', () => {
  const fs = { device: '/dev/vda', type: 'btrfs', detected: 'btrfs', module: 'btrfs', typeSource: 'rootfstype=', given: false, replay: null, members: ['/dev/vdb'] };
  assert.throws(() => requireOneDevice(fs, 'overlay=dm puts the first only under a snapshot, through which btrfs would write the others'), /\/dev\/vda \(btrfs\) spans 2 devices \(\/dev\/vda, \/dev\/vdb\), and overlay=dm puts the first only under a snapshot/);
  requireOneDevice({ ...fs, members: [] }, 'anything');
});

test('an image without cryptsetup meeting a LUKS container warns once and goes on: the container may be a data disk', async () => {
  const { sys, ctx } = luksContext();
  sys.files.delete('/usr/sbin/cryptsetup');
  assert.is(await assembleVolumes(ctx, {} as Services, [DEVICE]), false);
  assert.is(await assembleVolumes(ctx, {} as Services, [DEVICE]), false);
  const warnings = sys.console.join('').split('\n').filter((l) => l.includes('the image has no cryptsetup'));
  assert.is(warnings.length, 1);
  assert.match(warnings[0]!, '/dev/vda is encrypted (LUKS UUID=9c5d4e3f-7a6b-4c8d-8e9f-1a2b3c4d5e6f), and the image has no cryptsetup (/usr/sbin/cryptsetup), so it is left as it is');
});

test('RAID: the members the kernel took are reported, not those offered; a member mdadm left out is warned of, and every member set read-only', async () => {
  const setUuid = 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e';
  const member = (role: number) => {
    const head = Buffer.alloc(4096 + 512);
    raid1Superblock(Buffer.from(setUuid.replaceAll('-', ''), 'hex'), 'frozen:0', role, 2, 2048, 1n).copy(head, 4096);
    return head.toString('latin1');
  };
  const sys = fakeSystem({ '/dev/vda': member(0), '/dev/vdb': member(1), '/sys/class/block/vda/size': '4096\n', '/sys/class/block/vdb/size': '4096\n' });
  const ctx = createContext(sys, [], {});
  ctx.config = mergeConfig({});
  const run = sys.run.bind(sys);
  sys.run = async (argv, options) => {
    // As the kernel does when mdadm leaves /dev/vdb out: only /dev/vda is held by md0.
    if (argv[0] === 'mdadm') sys.files.set('/sys/class/block/vda/holders/md0', { kind: 'file', mode: 0o644, text: '' });
    return run(argv, options);
  };
  assert.equal(await assembleMd(ctx, scanBlockDevices(sys)), [setUuid]);
  const said = sys.console.join('');
  assert.match(said, `RAID ${setUuid}: mdadm left /dev/vdb out of the array`);
  assert.match(said, `RAID ${setUuid}: 1 of its 2 devices are in it (/dev/vda), so it is started degraded`);
  assert.not.match(said, 'assembled read-only from');
  assert.ok(sys.calls.includes('run blockdev --setro /dev/vda') && sys.calls.includes('run blockdev --setro /dev/vdb'), sys.calls.join('\n'));
});

test('a /dev/mapper node is its dm-N in sysfs (lvm makes nodes, not links), so its size and read-only flag are read there', () => {
  const { sys, ctx } = luksContext();
  sys.files.set('/sys/class/block/dm-3/dm/name', { kind: 'file', mode: 0o644, text: 'debian--vg-root\n' });
  sys.files.set('/sys/class/block/dm-3/size', { kind: 'file', mode: 0o644, text: '2048\n' });
  sys.files.set('/sys/class/block/dm-3/ro', { kind: 'file', mode: 0o644, text: '1\n' });
  assert.is(kernelName(ctx, '/dev/mapper/debian--vg-root'), 'dm-3');
  assert.is(sectors(ctx, '/dev/mapper/debian--vg-root'), 2048);
  assert.ok(isReadOnly(ctx, '/dev/mapper/debian--vg-root'));
  assert.is(kernelName(ctx, '/dev/vda1'), 'vda1');
});

test.run();
