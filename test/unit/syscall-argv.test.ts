import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mountCommand } from '../../src/mount';
import { MS, mountCall, setroDevice } from '../../src/syscall-argv';
import { EARLY_MOUNTS } from '../../src/stages/early-mounts';
import { overlayfsCommand } from '../../src/mounts/overlayfs';

test('mount -t -o: flag words become flags, the rest the data string', () => {
  assert.equal(mountCall(mountCommand(EARLY_MOUNTS[3]!)), {
    source: 'devpts', target: '/dev/pts', type: 'devpts', flags: MS.NOSUID | MS.NOEXEC, data: 'gid=5,mode=620',
  });
  assert.equal(mountCall(['mount', '-t', 'ext4', '-o', 'ro,noatime', '/dev/vda', '/x']), { source: '/dev/vda', target: '/x', type: 'ext4', flags: MS.RDONLY | MS.NOATIME, data: null });
  assert.equal(mountCall(['mount', '-t', 'ext4', '-o', 'rw,errors=remount-ro', '/dev/a', '/b'])?.data, 'errors=remount-ro');
  assert.equal(mountCall(overlayfsCommand())?.data, 'lowerdir=/run/initramfs/ro,upperdir=/run/initramfs/cow/upper,workdir=/run/initramfs/cow/work');
});

test('--move and --bind; anything else is left to the command', () => {
  assert.equal(mountCall(['mount', '--move', '/dev', '/newroot/dev']), { source: '/dev', target: '/newroot/dev', type: null, flags: MS.MOVE, data: null });
  assert.equal(mountCall(['mount', '--bind', '/a', '/b'])?.flags, MS.BIND);
  assert.is(mountCall(['mount', '-a']), null);
  assert.is(mountCall(['umount', '/x']), null);
  assert.is(setroDevice(['blockdev', '--setro', '/dev/vda']), '/dev/vda');
  assert.is(setroDevice(['blockdev', '--getsz', '/dev/vda']), null);
});

test.run();
