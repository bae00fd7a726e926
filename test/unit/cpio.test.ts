import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type CpioEntry, entryKind, normalizeEntries, readCpio, writeCpio } from '../../builder/cpio';

const ENTRIES: CpioEntry[] = [
  { kind: 'file', path: 'usr/bin/tool', mode: 0o755, data: Buffer.from('#!/bin/sh\necho hi\n') },
  { kind: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
  { kind: 'chardev', path: 'dev/console', mode: 0o600, major: 5, minor: 1 },
  { kind: 'dir', path: 'tmp', mode: 0o1777 },
  { kind: 'file', path: 'init', mode: 0o755, data: Buffer.from('odd size') },
];

const archive = (entries: CpioEntry[], mtime = 0) => Buffer.concat(writeCpio(entries, mtime));

test('parents are added, paths sorted, duplicates folded, conflicts refused', () => {
  const paths = normalizeEntries([...ENTRIES, ENTRIES[1]!]).map((e) => e.path);
  assert.equal(paths, ['bin', 'bin/sh', 'dev', 'dev/console', 'init', 'tmp', 'usr', 'usr/bin', 'usr/bin/tool']);
  assert.throws(() => normalizeEntries([ENTRIES[1]!, { kind: 'symlink', path: '/bin/sh', target: '/other' }]), /two different entries for \/bin\/sh/);
  assert.throws(() => normalizeEntries([{ kind: 'dir', path: '../etc', mode: 0o755 }]), /bad path/);
});

test('round trip through our reader: types, modes, owners, times, inodes, data', () => {
  const read = readCpio(archive(ENTRIES, 1234));
  assert.equal(read.map((e) => `${e.path} ${entryKind(e.mode)} ${(e.mode & 0o7777).toString(8)}`), [
    'bin dir 755', 'bin/sh symlink 777', 'dev dir 755', 'dev/console chardev 600', 'init file 755',
    'tmp dir 1777', 'usr dir 755', 'usr/bin dir 755', 'usr/bin/tool file 755',
  ]);
  assert.equal(read.map((e) => e.ino), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.ok(read.every((e) => e.uid === 0 && e.gid === 0 && e.mtime === 1234));
  const byPath = new Map(read.map((e) => [e.path, e]));
  assert.is(Buffer.from(byPath.get('bin/sh')!.data).toString(), '/bin/busybox');
  assert.is(Buffer.from(byPath.get('init')!.data).toString(), 'odd size');
  assert.equal([byPath.get('dev/console')!.rmajor, byPath.get('dev/console')!.rminor], [5, 1]);
});

test('byte-identical on a second build, whatever the input order', () => {
  assert.ok(archive(ENTRIES).equals(archive([...ENTRIES].reverse())));
});

test('GNU cpio reads it back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cowboot-cpio-'));
  try {
    const file = join(dir, 'test.cpio');
    writeFileSync(file, archive(ENTRIES, 1700000000));
    const listing = execFileSync('cpio', ['-itv', '-F', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(listing, /^crw------- +1 root +root +5, +1 .* dev\/console$/m);
    assert.match(listing, /^lrwxrwxrwx +1 root +root +12 .* bin\/sh -> \/bin\/busybox$/m);
    assert.match(listing, /^-rwxr-xr-x +1 root +root +8 .* init$/m);
    assert.match(listing, /^drwxrwxrwt +2 root +root +0 .* tmp$/m);
    execFileSync('cpio', ['-id', '--quiet', '-F', file], { cwd: dir, stdio: 'ignore' });
    assert.is(execFileSync('sh', [join(dir, 'usr/bin/tool')], { encoding: 'utf8' }), 'hi\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
