// What install and uninstall do to the system, as values: each change can
// describe itself (for --dry-run and the log) and be applied; applied
// changes are undone in reverse when a later one fails, so a failure leaves
// the system as it was. A replaced or removed file waits under a name ending
// in "~" until all went well: update-grub and run-parts skip such names.
// Folders are removed last, once the files in them are gone for good.

import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CommandError } from '../errors';

export type Change =
  | { readonly kind: 'write'; readonly path: string; readonly text: string; readonly mode: number; readonly what: string }
  | { readonly kind: 'copy'; readonly path: string; readonly source: string; readonly mode: number }
  /** A folder made whole from files (by their names in it), put in place of the old one at once. */
  | { readonly kind: 'folder'; readonly path: string; readonly files: readonly { readonly name: string; readonly source: string; readonly mode: number }[]; readonly what: string }
  /** A file made by a function that writes it (an image), given the path to write. */
  | { readonly kind: 'make'; readonly path: string; readonly what: string; readonly make: (path: string) => Promise<void> }
  | { readonly kind: 'remove'; readonly path: string }
  /** A folder of ours, removed where empty. */
  | { readonly kind: 'rmdir'; readonly path: string }
  | { readonly kind: 'run'; readonly argv: readonly string[] };

export function describeChange(change: Change): string {
  switch (change.kind) {
    case 'write':
      return `write ${change.path} (${change.what})`;
    case 'copy':
      return `copy ${change.source} to ${change.path}`;
    case 'folder':
      return `put ${change.path} in place: ${change.what} (${change.files.map((f) => f.name).join(', ')})`;
    case 'make':
      return `build ${change.path} (${change.what})`;
    case 'remove':
      return `remove ${change.path}`;
    case 'rmdir':
      return `remove the folder ${change.path}`;
    case 'run':
      return `run ${change.argv.join(' ')}`;
  }
}

const UNDO = '.cowboot-undo~';

/** Applies changes in order; on a failure, undoes the applied ones in reverse and throws. */
export async function applyChanges(changes: readonly Change[], say: (line: string) => void): Promise<void> {
  const undo: (() => void)[] = [];
  const kept: string[] = [];
  // Parents made here are removed again on failure.
  const parents = (path: string) => {
    const made: string[] = [];
    for (let dir = dirname(path); !existsSync(dir); dir = dirname(dir)) made.unshift(dir);
    mkdirSync(dirname(path), { recursive: true });
    undo.push(() => made.reverse().forEach((dir) => rmdirSync(dir)));
  };
  // An existing file is moved aside first, and back on failure.
  const replacing = (path: string) => {
    if (existsSync(path)) {
      renameSync(path, path + UNDO);
      kept.push(path + UNDO);
      undo.push(() => {
        rmSync(path, { recursive: true, force: true });
        renameSync(path + UNDO, path);
      });
    } else undo.push(() => rmSync(path, { recursive: true, force: true }));
  };
  try {
    for (const change of changes) {
      say(describeChange(change));
      switch (change.kind) {
        case 'write':
        case 'copy':
        case 'make': {
          parents(change.path);
          const tmp = `${change.path}.cowboot-new`;
          if (change.kind === 'write') writeFileSync(tmp, change.text);
          else if (change.kind === 'copy') copyFileSync(change.source, tmp);
          else await change.make(tmp);
          if (change.kind !== 'make') chmodSync(tmp, change.mode);
          replacing(change.path);
          renameSync(tmp, change.path);
          break;
        }
        case 'folder': {
          parents(change.path);
          const tmp = `${change.path}.cowboot-new`;
          rmSync(tmp, { recursive: true, force: true });
          for (const file of change.files) {
            mkdirSync(dirname(join(tmp, file.name)), { recursive: true });
            copyFileSync(file.source, join(tmp, file.name));
            chmodSync(join(tmp, file.name), file.mode);
          }
          replacing(change.path);
          renameSync(tmp, change.path);
          break;
        }
        case 'remove':
          if (existsSync(change.path)) replacing(change.path);
          break;
        case 'rmdir':
          break;
        case 'run': {
          const result = spawnSync(change.argv[0]!, change.argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
          if (result.status !== 0) throw new CommandError(`${change.argv.join(' ')} failed (${result.error?.message ?? `exit status ${result.status ?? result.signal}`})`);
          break;
        }
      }
    }
  } catch (error) {
    say(`failed: ${(error as Error).message}; undoing what was done`);
    for (const step of undo.reverse()) step();
    for (const change of changes) if ('path' in change) rmSync(`${change.path}.cowboot-new`, { recursive: true, force: true });
    throw error;
  }
  for (const path of kept) rmSync(path, { recursive: true, force: true });
  for (const change of changes) {
    if (change.kind === 'rmdir' && existsSync(change.path) && readdirSync(change.path).length === 0) rmdirSync(change.path);
  }
}
