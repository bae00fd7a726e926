// What a LUKS2 header says about its key slots, read from the JSON area
// that follows the 4 KiB binary header: how much memory argon2 asks for to
// try a passphrase, which a small machine that also holds a RAM layer may
// not have.

/** The bytes to read from the start of a LUKS2 device to have its JSON area (the default header is 16 KiB; 4 MiB at most). */
export function luks2HeaderBytes(head: Uint8Array): number {
  // hdr_size is big-endian, at 8; its high half is 0 for any real header.
  const size = ((head[12]! << 24) | (head[13]! << 16) | (head[14]! << 8) | head[15]!) >>> 0;
  return Math.min(Math.max(size, 4096), 4 * 2 ** 20);
}

interface Keyslot {
  readonly kdf?: { readonly type?: string; readonly memory?: number };
}

/** The most memory, in bytes, any key slot's argon2 asks for; 0 for PBKDF2 slots, LUKS1 or a header that cannot be read. */
export function argon2MemoryBytes(header: Uint8Array): number {
  if (header.length <= 4096 || ((header[6]! << 8) | header[7]!) !== 2) return 0;
  const json = Buffer.from(header.subarray(4096)).toString('utf8').replace(/\0[\s\S]*$/, '');
  try {
    const keyslots = (JSON.parse(json) as { keyslots?: Record<string, Keyslot> }).keyslots ?? {};
    // argon2's memory is in KiB.
    return Math.max(0, ...Object.values(keyslots).map((k) => (k.kdf?.type?.startsWith('argon2') ? (k.kdf.memory ?? 0) * 1024 : 0)));
  } catch {
    return 0;
  }
}
