// The layers of the code, lowest first: a file may import its own folder and
// the folders below it, never one above, and no import closes a circle, type
// imports included. Each folder's opening comment (its index or first file)
// says what lives there.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { importCycles, importGraph } from './import-graph';

export const LAYERS = [
  'src/formats/', // on-disk and text formats, pure
  'src/layout/', // path contracts: builder ↔ /init, /init ↔ the booted system
  'src/config/', // settings rows, parsers, the union names
  'src/sys/', // System and its machines (Linux, memory), libc
  'src/core/', // context, the stage machine, events, errors, log, mounts as values, rescue
  'src/kmod/', // kernel modules: aliases, loading, coldplug
  'src/storage/', // block devices, finding them, filesystems, dm, verity, toram
  'src/net/', // the network for a fetched root: ip=, DHCP, the download into RAM
  'src/union/', // the overlay= kinds and the COW space
  'src/persist/', // persist=: the kept layer, and its return at shutdown
  'src/stages/', // the stages, in boot order, and what each hands on
  'src/', // boot, plan mode, main
  'builder/', // the image builder
  'cli/', // the cowboot command
] as const;

export const layerOf = (file: string): number => // The longest folder that holds the file: src/ holds only what no folder below it does.
  LAYERS.reduce((found, layer, i) => (file.startsWith(layer) && (found < 0 || layer.length > LAYERS[found]!.length) ? i : found), -1);

const graph = importGraph(join(__dirname, '..', '..'), ['src', 'builder', 'cli']);

test('every file is in a layer', () => {
  assert.equal([...graph.keys()].filter((file) => layerOf(file) < 0), []);
});

test('no import circle, type imports included', () => {
  assert.equal(importCycles(graph), []);
});

test('no import upward', () => {
  const upward = [...graph].flatMap(([file, targets]) => targets.filter((t) => layerOf(t) > layerOf(file)).map((t) => `${file} -> ${t}`));
  assert.equal(upward, []);
});

test.run();
