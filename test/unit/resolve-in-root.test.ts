import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { resolveInRoot } from '../../src/sys/resolve-in-root';
import { fakeSystem } from './fake-system';

const fs = fakeSystem({
  '/new/sbin/init': { kind: 'symlink', target: '/lib/systemd/systemd' },
  '/new/lib': { kind: 'symlink', target: 'usr/lib' },
  '/new/usr/lib/systemd/systemd': { kind: 'file', mode: 0o755, text: '' },
  '/new/bin/loop': { kind: 'symlink', target: '/bin/loop' },
  '/new/etc/passwd': { kind: 'file', mode: 0o644, text: '' },
  '/lib/systemd/systemd': { kind: 'file', mode: 0o755, text: 'the initramfs one' },
});

test('absolute and relative symlinks resolve inside the new root, not the initramfs', () => {
  const r = resolveInRoot(fs, '/new', '/sbin/init');
  assert.equal(r, { ok: true, path: '/usr/lib/systemd/systemd', info: { kind: 'file', mode: 0o755, size: 0 } });
});

test('missing paths, loops and files used as folders are reported', () => {
  assert.equal(resolveInRoot(fs, '/new', '/sbin/nope'), { ok: false, reason: '/sbin/nope does not exist' });
  assert.equal(resolveInRoot(fs, '/new', '/bin/loop'), { ok: false, reason: 'too many symlinks resolving /bin/loop' });
  assert.equal(resolveInRoot(fs, '/new', '/etc/passwd/x'), { ok: false, reason: '/etc/passwd is not a directory' });
});

test('.. cannot climb out of the new root', () => {
  const r = resolveInRoot(fs, '/new', '/../../lib/systemd/systemd');
  assert.ok(r.ok && r.path === '/usr/lib/systemd/systemd');
});

test.run();
