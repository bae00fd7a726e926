import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCmdline } from '../../src/formats/cmdline';
import { configFromCmdline, configFromJson, DEFAULT_CONFIG, describeProblem, initArgsWithoutOurFlags, mergeConfig, normalizeConfigText } from '../../src/config';

const fromCmdline = (text: string) => configFromCmdline(parseCmdline(text));

test('defaults: unionfs, /sbin/init, 30 s', () => {
  assert.equal(mergeConfig(), DEFAULT_CONFIG);
  assert.is(DEFAULT_CONFIG.overlay, 'unionfs');
  assert.is(DEFAULT_CONFIG.init, '/sbin/init');
  assert.is(DEFAULT_CONFIG.rootdelay, 30);
});

test('the command line wins over the image config, which wins over the defaults', () => {
  const image = configFromJson({ overlay: 'overlayfs', rootdelay: 5, modules: ['virtio_blk'] }, '/etc/cowboot.json');
  const cmdline = fromCmdline('root=/dev/vda overlay=unionfs modules=a,b quiet');
  assert.equal(image.problems, []);
  assert.equal(cmdline.problems, []);
  const config = mergeConfig(image.values, cmdline.values);
  assert.is(config.overlay, 'unionfs');
  assert.is(config.rootdelay, 5);
  assert.equal(config.modules, ['a', 'b']);
  assert.is(config.root, '/dev/vda');
  assert.is(config.quiet, true);
  assert.is(config.init, '/sbin/init');
});

test('our own bare flags are not init arguments', () => {
  assert.equal(initArgsWithoutOurFlags(['toram', '3', 'single', 'rw']), ['3', 'single']);
});

test('parameters that are not ours are ignored', () => {
  assert.equal(fromCmdline('console=ttyS0 BOOT_IMAGE=/vmlinuz splash 5'), { values: {}, problems: [] });
});

test('each bad value names the parameter, the value and what is valid', () => {
  const messages = fromCmdline('overlay=aufs rootdelay=soon init=sbin/init modules=a;b root=sda1 rootfstype=Ext4! quiet=yes').problems.map(describeProblem);
  assert.equal(messages, [
    'command line: root=sda1 is not valid: expected a device path such as /dev/sda2, or LABEL=, UUID=, PARTUUID=, PARTLABEL=, live:http://HOST/PATH of an image to fetch, nbd:HOST:PORT[:EXPORT] of an NBD server, or nfs:SERVER:/PATH[:OPTIONS] (nfs4: too; /dev/nfs with nfsroot=) of an NFSv4 export',
    'command line: rootfstype=Ext4! is not valid: expected a filesystem type such as ext4, squashfs or iso9660',
    'command line: overlay=aufs is not valid: expected one of unionfs, dm, overlayfs, none',
    'command line: modules=a;b is not valid: expected module names separated by commas, such as virtio_blk,ext4',
    'command line: init=sbin/init is not valid: expected an absolute path such as /sbin/init',
    'command line: rootdelay=soon is not valid: expected a whole number of seconds, such as 30',
    'command line: quiet=yes is not valid: expected no value, or 0 or 1',
  ]);
});

test('the rescue parameters: rd.shell, rd.emergency, rd.break, rd.debug, panic', () => {
  const good = fromCmdline('rd.shell=0 rd.emergency=poweroff rd.break=root,union rd.debug panic=-1');
  assert.equal(good.problems, []);
  assert.equal(good.values, { shell: false, emergency: 'poweroff', breakAt: ['root', 'union'], debug: true, panic: -1 });
  assert.equal(fromCmdline('rd.break').values.breakAt, ['handoff']);
  const messages = fromCmdline('rd.shell=maybe rd.emergency=explode rd.break=root,config panic=soon').problems.map(describeProblem);
  assert.equal(messages, [
    'command line: rd.shell=maybe is not valid: expected no value, or 0 or 1',
    'command line: rd.emergency=explode is not valid: expected one of reboot, poweroff, halt',
    'command line: rd.break=root,config is not valid: expected no value (before handoff), or stage names separated by commas: early-mounts, drivers, root, cow, union, fstab, move-mounts, handoff',
    'command line: panic=soon is not valid: expected a whole number of seconds, such as 10 (0 waits for ever, below 0 acts at once)',
  ]);
});

test('findiso= and its other names (casper and dracut: iso-scan/filename=); the last given wins, a bad one is named as typed', () => {
  assert.is(fromCmdline('findiso=/isos/a.iso').values.findiso, '/isos/a.iso');
  assert.is(fromCmdline('iso-scan/filename=/isos/b.iso').values.findiso, '/isos/b.iso');
  assert.is(fromCmdline('findiso=/a.iso iso-scan/filename=/b.iso').values.findiso, '/b.iso');
  assert.equal(fromCmdline('iso-scan/filename=live.iso').problems.map(describeProblem), [
    'command line: iso-scan/filename=live.iso is not valid: expected an absolute path to an ISO file, such as /isos/live.iso',
  ]);
});

test('a parameter that needs a value and has none is a problem', () => {
  assert.equal(fromCmdline('overlay root=').problems.map((p) => p.param), ['root', 'overlay']);
});

test('root= forms: paths, tags, and the links udev would make', () => {
  const ok = (root: string) => fromCmdline(`root="${root}"`).problems.length === 0;
  for (const root of ['/dev/sda2', 'LABEL=my root', 'UUID=0f1e-22', 'PARTUUID=6c0d2f5a-01', 'PARTLABEL=root', '/dev/disk/by-label/my\\x20root']) assert.ok(ok(root), root);
  for (const root of ['sda2', 'LABEL=', 'FOO=bar', '/dev/']) assert.not.ok(ok(root), root);
  assert.equal(fromCmdline('rd.driver.jobs=1 modprobe.blacklist=floppy,pcspkr rootwait').values, { jobs: 1, blacklist: ['floppy', 'pcspkr'], rootwait: true });
  assert.equal(describeProblem(fromCmdline('rd.driver.jobs=0').problems[0]!), 'command line: rd.driver.jobs=0 is not valid: expected a whole number from 1 to 64, such as 8');
});

test('a root with shell syntax is only an odd path, never run', () => {
  assert.equal(fromCmdline('root=/dev/vda;reboot').values.root, '/dev/vda;reboot');
});

test('config file: unknown keys and wrong types are rejected by name', () => {
  const { problems } = configFromJson({ overlay: 'dm', rootdelay: '5', colour: 'blue', modules: 'ext4' }, 'my.json');
  assert.equal(problems.map(describeProblem), [
    'my.json: rootdelay=5 is not valid: expected a whole number of seconds, such as 30',
    'my.json: colour=blue is not valid: expected a known key: root, rootwait, rootfstype, rootflags, overlay, loop, loopfstype, findiso, roothash, systemd.verity_root_hash, systemd.verity_root_options, verify, toram, cow, cowsize, persist, persist.reset, persist.adopt, cowchunk, rw, mounts, rd.luks, rd.luks.uuid, rd.luks.name, rd.luks.key, rd.md, rd.md.uuid, rd.lvm, rd.lvm.vg, rd.lvm.lv, swap, modules, modprobe.blacklist, rd.driver.jobs, init, fetch, nfsroot, rd.live.sha256, rd.live.pubkey, rd.live.insecure, ip, rd.net.timeout.dhcp, rootdelay, quiet, rd.shell, rd.emergency, rd.break, rd.debug, panic, rd.rescue-password',
    'my.json: modules=ext4 is not valid: expected a list of module names, such as ["virtio_blk", "ext4"]',
  ]);
  assert.equal(configFromJson([], 'my.json').problems[0]?.param, '(file)');
});

test('normalized config keeps only what was set, validated, in a fixed order', () => {
  assert.equal(normalizeConfigText('{"rd.break":"root","overlay":"overlayfs","root":null,"rd.shell":false}', 'c.json'), {
    json: '{\n  "root": null,\n  "overlay": "overlayfs",\n  "rd.shell": false,\n  "rd.break": "root"\n}\n',
    problems: [],
  });
  assert.match(normalizeConfigText('{overlay', 'c.json').problems[0]?.expected ?? '', /valid JSON/);
});

test.run();
