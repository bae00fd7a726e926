// install's changes in a scratch folder: applied in order, undone in
// reverse when one fails, so that nothing half-installed is left.

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { applyChanges, type Change, describeChange } from '../../cli/system/changes';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'cowboot-changes-'));
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a failure');
}

function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

test('changes apply in order: files written with their mode, replaced, removed; empty folders go last', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'old'), 'old\n');
    writeFileSync(join(dir, 'gone'), 'bye\n');
    mkdirSync(join(dir, 'empty-after'));
    writeFileSync(join(dir, 'empty-after', 'file'), 'x');
    const lines: string[] = [];
    await applyChanges(
      [
        { kind: 'write', path: join(dir, 'new/deep/hook'), text: '#!/bin/sh\n', mode: 0o755, what: 'a hook' },
        { kind: 'write', path: join(dir, 'old'), text: 'new\n', mode: 0o644, what: 'a replacement' },
        { kind: 'make', path: join(dir, 'image'), what: 'an image', make: async (path) => writeFileSync(path, 'image') },
        { kind: 'remove', path: join(dir, 'gone') },
        { kind: 'remove', path: join(dir, 'empty-after', 'file') },
        { kind: 'rmdir', path: join(dir, 'empty-after') },
      ],
      (line) => lines.push(line),
    );
    assert.equal(tree(dir), ['image', 'new', 'new/deep', 'new/deep/hook', 'old']);
    assert.is(statSync(join(dir, 'new/deep/hook')).mode & 0o777, 0o755);
    assert.is(readFileSync(join(dir, 'old'), 'utf8'), 'new\n');
    assert.is(lines[0], `write ${join(dir, 'new/deep/hook')} (a hook)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a folder is put in place whole, the old one gone; on a failure the old one is back as it was', async () => {
  const dir = scratch();
  try {
    mkdirSync(join(dir, 'lib/skel'), { recursive: true });
    writeFileSync(join(dir, 'lib/skel/old'), 'old');
    writeFileSync(join(dir, 'source'), 'new');
    const folder: Change = { kind: 'folder', path: join(dir, 'lib'), files: [{ name: 'skel/new', source: join(dir, 'source'), mode: 0o644 }], what: 'a copy' };
    const fail: Change = { kind: 'run', argv: ['false'] };
    assert.is(await failure(applyChanges([folder, fail], () => undefined)), 'false failed (exit status 1)');
    assert.equal(tree(join(dir, 'lib')), ['skel', 'skel/old']);
    await applyChanges([folder], () => undefined);
    assert.equal(tree(join(dir, 'lib')), ['skel', 'skel/new']);
    assert.equal(tree(dir), ['lib', 'lib/skel', 'lib/skel/new', 'source']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failure undoes every change before it, in reverse, and names the cause', async () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'old'), 'old\n');
    writeFileSync(join(dir, 'kept'), 'kept\n');
    chmodSync(join(dir, 'old'), 0o600);
    const before = tree(dir);
    const changes: Change[] = [
      { kind: 'write', path: join(dir, 'a/b/new'), text: 'new\n', mode: 0o644, what: 'new' },
      { kind: 'write', path: join(dir, 'old'), text: 'replaced\n', mode: 0o644, what: 'replaced' },
      { kind: 'remove', path: join(dir, 'kept') },
      { kind: 'make', path: join(dir, 'image'), what: 'an image', make: async () => { throw new Error('no space left'); } },
    ];
    const lines: string[] = [];
    assert.is(await failure(applyChanges(changes, (line) => lines.push(line))), 'no space left');
    assert.equal(tree(dir), before);
    assert.is(readFileSync(join(dir, 'old'), 'utf8'), 'old\n');
    assert.is(statSync(join(dir, 'old')).mode & 0o777, 0o600);
    assert.is(readFileSync(join(dir, 'kept'), 'utf8'), 'kept\n');
    assert.is(lines.at(-1), 'failed: no space left; undoing what was done');
    assert.not.ok(existsSync(join(dir, 'a')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a command that fails is named with its status, and undoes the files before it', async () => {
  const dir = scratch();
  try {
    const changes: Change[] = [
      { kind: 'write', path: join(dir, 'grub-script'), text: 'x', mode: 0o755, what: 'x' },
      { kind: 'run', argv: ['false'] },
    ];
    assert.is(await failure(applyChanges(changes, () => undefined)), 'false failed (exit status 1)');
    assert.equal(tree(dir), []);
    assert.is(describeChange(changes[1]!), 'run false');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
