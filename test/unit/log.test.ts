import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Log } from '../../src/core/log';
import { fakeSystem } from './fake-system';

test('records before /dev/kmsg exists are sent once it can be opened, in order', () => {
  const sys = fakeSystem();
  sys.kmsgAvailable = false;
  const log = new Log(sys);
  log.info('one');
  log.warn('two');
  assert.equal(sys.kmsg, []);
  sys.kmsgAvailable = true;
  log.error('three');
  assert.equal(sys.kmsg, ['<6>cowboot: one\n', '<4>cowboot: two\n', '<3>cowboot: three\n']);
});

test('console: warnings at once, the rest when the policy is known', () => {
  const sys = fakeSystem();
  sys.kmsgAvailable = false;
  const log = new Log(sys);
  log.info('early info');
  log.warn('early warning');
  assert.equal(sys.console, ['cowboot: early warning\n']);
  log.setConsolePolicy({ quiet: false, debug: false, kernelEchoBelow: 1 });
  assert.equal(sys.console, ['cowboot: early warning\n', 'cowboot: early info\n']);
});

test('quiet keeps the console to warnings and errors; debug never shows', () => {
  const sys = fakeSystem();
  const log = new Log(sys);
  log.setConsolePolicy({ quiet: true, debug: false, kernelEchoBelow: 1 });
  log.info('progress');
  log.debug('detail');
  log.warn('careful');
  log.error('broken');
  assert.equal(sys.console, ['cowboot: careful\n', 'cowboot: broken\n']);
  assert.is(sys.kmsg.length, 4, 'dmesg still has everything');
});

test('what the kernel echoes from kmsg to the console is not printed twice', () => {
  const sys = fakeSystem();
  const log = new Log(sys);
  log.setConsolePolicy({ quiet: false, debug: false, kernelEchoBelow: 7 });
  log.info('echoed by the kernel');
  assert.equal(sys.console, []);
  sys.kmsgAvailable = false;
  log.info('no kmsg: printed by us');
  assert.equal(sys.console, ['cowboot: no kmsg: printed by us\n']);
});

test('the whole log as text, multi-line messages split', () => {
  const sys = fakeSystem();
  const log = new Log(sys);
  log.info('a\nb');
  assert.match(log.text(), /^ +0\.\d{3} info  a\n +0\.\d{3} info  b\n$/);
});

test.run();
