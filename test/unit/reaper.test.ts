import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { orphanZombies, parseProcStat } from '../../src/sys/reaper';

test('/proc/PID/stat with spaces and parentheses in the name', () => {
  assert.equal(parseProcStat('42 (my (odd) name) Z 1 42 42 0 -1'), { pid: 42, state: 'Z', ppid: 1 });
  assert.equal(parseProcStat('7 (sh) S 1 7 7'), { pid: 7, state: 'S', ppid: 1 });
  assert.is(parseProcStat('garbage'), null);
});

test('only zombies of PID 1 that Node did not spawn are reaped', () => {
  const stats = [
    { pid: 10, state: 'Z', ppid: 1 },
    { pid: 11, state: 'Z', ppid: 1 },
    { pid: 12, state: 'S', ppid: 1 },
    { pid: 13, state: 'Z', ppid: 12 },
  ];
  assert.equal(orphanZombies(stats, new Set([11])), [10]);
});

test.run();
