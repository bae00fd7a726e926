import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BootError } from '../../src/core/errors';
import { describeEvent, Events, eventsIn } from '../../src/core/events';

test('what a benchmark measures is read back from the line the log wrote', () => {
  const console = [
    '[    5.1] cowboot: ' + describeEvent({ kind: 'stage-done', stage: 'root', ms: 812 }).text,
    'noise: stage roots: done in 5 ms',
    '[    5.9] cowboot: ' + describeEvent({ kind: 'coldplug-done', ms: 1432 }).text,
    '[    6.0] cowboot: ' + describeEvent({ kind: 'stage-done', stage: 'move-mounts', ms: 3 }).text,
  ].join('\r\n');
  assert.equal(eventsIn(console, 'stage-done'), [
    { kind: 'stage-done', stage: 'root', ms: 812 },
    { kind: 'stage-done', stage: 'move-mounts', ms: 3 },
  ]);
  assert.equal(eventsIn(console, 'coldplug-done'), [{ kind: 'coldplug-done', ms: 1432 }]);
});

test('a failure is logged with its stage, command and hint, at error level', () => {
  const failure = { stage: 'root' as const, error: new BootError('no root', { command: ['mount', '/dev/x'], hint: 'look again' }) };
  assert.equal(describeEvent({ kind: 'stage-failed', stage: 'root', ms: 7, failure }), {
    level: 'error',
    text: 'stage root failed: no root\n  command: mount /dev/x\n  hint: look again\nstage root: failed after 7 ms',
  });
});

test('every observer sees every event, in order', () => {
  const events = new Events();
  const seen: string[] = [];
  events.on((e) => seen.push(`a ${e.kind}`));
  events.on((e) => seen.push(`b ${e.kind}`));
  events.emit({ kind: 'stage-start', stage: 'config' });
  events.emit({ kind: 'break', stage: 'root' });
  assert.equal(seen, ['a stage-start', 'b stage-start', 'a break', 'b break']);
});

test.run();
