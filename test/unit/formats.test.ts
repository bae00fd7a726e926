// Every format the builder writes, read back by list and cat: packed with our
// cpio writer, compressed through the table, told apart by its first bytes.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compressFile } from '../../builder/compress';
import { type CpioEntry, writeCpio } from '../../builder/cpio';
import { COMPRESSIONS, detectFormat } from '../../builder/formats';
import { fileContent, imageSegments, listing, readImage, unpackedSize } from '../../builder/inspect';

const ENTRIES: CpioEntry[] = [
  { kind: 'file', path: 'etc/motd', mode: 0o644, data: Buffer.from('hello\n'.repeat(100)) },
  { kind: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
];

function inTempDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'cowboot-formats-'));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of COMPRESSIONS) {
  test(`${name}: compressed through the table, detected by its magic bytes, read back`, () => {
    inTempDir((dir) => {
      const cpio = join(dir, 'image.cpio');
      writeFileSync(cpio, Buffer.concat(writeCpio(ENTRIES, 0)));
      // No suffix: the format comes from the bytes.
      const image = join(dir, 'image');
      compressFile(name, cpio, image);
      assert.is(detectFormat(readFileSync(image)), name);
      const entries = readImage(image);
      assert.is(listing(entries), 'dir     0755 /bin\nsymlink 0777 /bin/sh -> /bin/busybox\ndir     0755 /etc\nfile    0644 /etc/motd (600 bytes)\n');
      assert.is(Buffer.from(fileContent(entries, '/etc/motd')).toString(), 'hello\n'.repeat(100));
    });
  });
}

test('an uncompressed archive then a compressed one, as the builder stores the runtime: both read, in order', () => {
  inTempDir((dir) => {
    const stored = Buffer.concat(writeCpio([{ kind: 'file', path: 'lib/cowboot/runtime.squashfs', mode: 0o644, data: Buffer.from('hsqs') }], 0));
    const cpio = join(dir, 'rest.cpio');
    writeFileSync(cpio, Buffer.concat(writeCpio(ENTRIES, 0)));
    compressFile('zstd', cpio, join(dir, 'rest.zst'));
    const image = join(dir, 'image');
    writeFileSync(image, Buffer.concat([stored, readFileSync(join(dir, 'rest.zst'))]));
    const segments = imageSegments(image);
    assert.equal(segments.map((s) => [s.format, s.offset]), [['none', 0], ['zstd', stored.length]]);
    assert.is(unpackedSize(image), stored.length + readFileSync(cpio).length);
    const entries = readImage(image);
    assert.equal(entries.map((e) => e.path), ['lib', 'lib/cowboot', 'lib/cowboot/runtime.squashfs', 'bin', 'bin/sh', 'etc', 'etc/motd']);
    assert.is(Buffer.from(fileContent(entries, '/lib/cowboot/runtime.squashfs')).toString(), 'hsqs');
  });
});

test('garbage after an archive is named with its place', () => {
  inTempDir((dir) => {
    const image = join(dir, 'image');
    writeFileSync(image, Buffer.concat([...writeCpio(ENTRIES, 0), Buffer.from('PK\x03\x04')]));
    assert.throws(() => readImage(image), (error: Error) => error.message.startsWith(`${image} is not an initramfs: at byte ${readFileSync(image).length - 4} it has 50 4b 03 04;`));
  });
});

test('an unknown format is refused, naming the formats expected', () => {
  inTempDir((dir) => {
    const image = join(dir, 'image.zip');
    writeFileSync(image, Buffer.from('PK\x03\x04 not an initramfs'));
    assert.throws(
      () => readImage(image),
      (error: Error) =>
        error.message ===
        `${image} is not an initramfs: it starts with 50 4b 03 04 20 6e; expected zstd (28 b5 2f fd), gzip (1f 8b), xz (fd 37 7a 58 5a 00), lz4 (02 21 4c 18) or an uncompressed newc cpio (30 37 30 37 30 31)`,
    );
  });
});

test.run();
