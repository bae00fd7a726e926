// Little helpers for reading on-disk structures.

export function u16le(b: Uint8Array, at: number): number {
  return (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
}

export function u32le(b: Uint8Array, at: number): number {
  return (u16le(b, at) | (u16le(b, at + 2) << 16)) >>> 0;
}

export function u64le(b: Uint8Array, at: number): number {
  return u32le(b, at) + u32le(b, at + 4) * 2 ** 32;
}

export function ascii(b: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (b[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

export function hex(b: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += (b[i] ?? 0).toString(16).padStart(2, '0');
  return out;
}

/** A UUID stored as 16 bytes in order (ext4, xfs, btrfs, erofs). */
export function uuidBigEndian(b: Uint8Array, at: number): string {
  const h = hex(b, at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A GUID as GPT stores it: the first three fields little-endian. */
export function guidMixedEndian(b: Uint8Array, at: number): string {
  const rev = (from: number, to: number) => {
    let out = '';
    for (let i = to - 1; i >= from; i--) out += (b[i] ?? 0).toString(16).padStart(2, '0');
    return out;
  };
  return `${rev(at, at + 4)}-${rev(at + 4, at + 6)}-${rev(at + 6, at + 8)}-${hex(b, at + 8, at + 10)}-${hex(b, at + 10, at + 16)}`;
}

/** A fixed-size text field: up to the first NUL, trailing spaces dropped. */
export function text(b: Uint8Array, at: number, length: number, encoding: 'latin1' | 'utf8' = 'utf8'): string {
  const slice = b.subarray(at, at + length);
  const end = slice.indexOf(0);
  return Buffer.from(end === -1 ? slice : slice.subarray(0, end)).toString(encoding).replace(/ +$/, '');
}

export function isZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i]) return false;
  return true;
}
