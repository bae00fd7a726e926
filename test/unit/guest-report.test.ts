// The VM tests read the guest's "GUEST key=value" lines off the serial
// console, where the kernel's own messages can cut into them.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { guest } from '../vm/harness';

test('a line the kernel cut into is read whole; kernel lines alone are not GUEST lines', () => {
  const console = [
    'GUEST fill-statu[   21.935385] EXT4-fs (dm-0): I/O error while writing superblock',
    's=1[   21.935653] EXT4-fs (dm-0): Remounting filesystem read-only',
    '',
    '[   22.1] GUEST lookalike=no',
    'frozen-systemd login: GUEST root-write=ok\r',
    '',
  ].join('\n');
  assert.equal(guest(console, 'fill-status'), ['1']);
  assert.equal(guest(console, 'root-write'), ['ok']);
  assert.equal(guest(console, 'lookalike'), []);
});

test('a line after the first kernel message, which shares its line with the boot loader escapes, is read', () => {
  const console = 'Probing EDD (edd=off to disable)... o\x1bc\x1b[?7l\x1b[2J[    0.000000] Linux version 6.12\r\n[    7.07] Not activating\r\nGUEST uptime=7.08\r\n';
  assert.equal(guest(console, 'uptime'), ['7.08']);
});

test.run();
