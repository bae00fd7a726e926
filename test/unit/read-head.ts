import { DETECT_BYTES } from '../../src/fs-detect';
import { readHead as readFirst } from '../../src/read-head';

/** The first bytes of an image file, as /init reads them from a device. */
export function readHead(path: string): Uint8Array {
  return readFirst(path, DETECT_BYTES);
}
