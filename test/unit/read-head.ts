import { closeSync, openSync, readSync } from 'node:fs';
import { DETECT_BYTES } from '../../src/fs-detect';

/** The first bytes of an image file, as /init reads them from a device. */
export function readHead(path: string): Uint8Array {
  const buffer = Buffer.alloc(DETECT_BYTES);
  const fd = openSync(path, 'r');
  try {
    return buffer.subarray(0, readSync(fd, buffer, 0, DETECT_BYTES, 0));
  } finally {
    closeSync(fd);
  }
}
