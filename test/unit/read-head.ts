import { DETECT_BYTES } from '../../src/formats/superblocks';
import { readHead as readFirst } from '../../src/sys/read-head';

/** The first bytes of an image file, as /init reads them from a device. */
export function readHead(path: string): Uint8Array {
  return readFirst(path, DETECT_BYTES);
}
