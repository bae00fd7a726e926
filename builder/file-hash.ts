import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';

/** A file's SHA-256 in hex, read in pieces: a disk or an image may be larger than the 2 GiB a single read takes. */
export function sha256File(path: string): string {
  const hash = createHash('sha256');
  const buffer = Buffer.alloc(16 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) hash.update(buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
