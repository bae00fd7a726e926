import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandOf, MS, mountCall } from '../../src/sys/mount-op';
import { API_FILESYSTEMS } from '../../src/core/api-mounts';

test('a mount: flag words become flags, the rest the data string', () => {
  assert.equal(mountCall({ kind: 'mount', ...API_FILESYSTEMS[3]! }), {
    source: 'devpts', target: '/dev/pts', type: 'devpts', flags: MS.NOSUID | MS.NOEXEC, data: 'gid=5,mode=620',
  });
  assert.equal(mountCall({ kind: 'mount', type: 'ext4', source: '/dev/vda', target: '/x', options: 'ro,noatime' }), { source: '/dev/vda', target: '/x', type: 'ext4', flags: MS.RDONLY | MS.NOATIME, data: null });
  assert.equal(mountCall({ kind: 'mount', type: 'ext4', source: '/dev/a', target: '/b', options: 'rw,errors=remount-ro' }).data, 'errors=remount-ro');
  assert.equal(mountCall({ kind: 'mount', type: 'tmpfs', source: 'tmpfs', target: '/run', options: 'mode=0755,nosuid,nodev,strictatime' }).flags, MS.NOSUID | MS.NODEV | MS.STRICTATIME);
});

test('a move and a bind are flags alone', () => {
  assert.equal(mountCall({ kind: 'move', source: '/dev', target: '/newroot/dev' }), { source: '/dev', target: '/newroot/dev', type: null, flags: MS.MOVE, data: null });
  assert.is(mountCall({ kind: 'bind', source: '/a', target: '/b' }).flags, MS.BIND);
});

test('each shows, and runs on failure, as the command that does the same', () => {
  assert.equal(commandOf({ kind: 'mount', type: 'ext4', source: '/dev/vda', target: '/x', options: 'ro' }), ['mount', '-t', 'ext4', '-o', 'ro', '/dev/vda', '/x']);
  assert.equal(commandOf({ kind: 'move', source: '/dev', target: '/newroot/dev' }), ['mount', '--move', '/dev', '/newroot/dev']);
  assert.equal(commandOf({ kind: 'bind', source: '/a', target: '/b' }), ['mount', '--bind', '/a', '/b']);
  assert.equal(commandOf({ kind: 'setro', device: '/dev/vda' }), ['blockdev', '--setro', '/dev/vda']);
});

test.run();
