import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lastParam, parseCmdline } from '../../src/formats/cmdline';

test('key=value, flags and the last value winning', () => {
  const c = parseCmdline('BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet overlay=dm overlay=unionfs');
  assert.equal(lastParam(c, 'root')?.value, '/dev/sda1');
  assert.equal(lastParam(c, 'quiet'), { key: 'quiet', value: null });
  assert.equal(lastParam(c, 'overlay')?.value, 'unionfs');
  assert.is(lastParam(c, 'init'), undefined);
});

test('double quotes group spaces and are removed', () => {
  const c = parseCmdline('rootflags="noatime, errors=remount-ro" "init=/sbin/my init" x="a"b');
  assert.equal(lastParam(c, 'rootflags')?.value, 'noatime, errors=remount-ro');
  assert.equal(lastParam(c, 'init')?.value, '/sbin/my init');
  assert.equal(lastParam(c, 'x')?.value, 'ab');
});

test('a value keeps its own = signs', () => {
  assert.equal(lastParam(parseCmdline('root=LABEL=my=disk'), 'root')?.value, 'LABEL=my=disk');
});

test('whitespace of any kind separates; an empty line has nothing', () => {
  assert.equal(parseCmdline('  a=1\t\tb=2\n').params, [{ key: 'a', value: '1' }, { key: 'b', value: '2' }]);
  assert.equal(parseCmdline('').params, []);
  assert.equal(parseCmdline('a= ').params, [{ key: 'a', value: '' }]);
});

test('init arguments: bare words the kernel does not take, and everything after --', () => {
  assert.equal(parseCmdline('root=/dev/vda ro quiet 5').initArgs, ['5']);
  assert.equal(parseCmdline('root=/dev/vda single splash').initArgs, ['single', 'splash']);
  assert.equal(parseCmdline('root=/dev/vda nomodeset mod.param 3 -- --verbose x=1').initArgs, ['3', '--verbose', 'x=1']);
  const c = parseCmdline('overlay=dm -- overlay=unionfs');
  assert.equal(lastParam(c, 'overlay')?.value, 'dm', 'after -- is not ours');
});

test.run();
