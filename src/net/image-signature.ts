// A fetched image's SHA256SUMS, signed: SHA256SUMS.sig beside it is an
// Ed25519 signature of the file's bytes (openssl pkeyutl -sign -rawin, or
// cowboot netboot --sign-key), checked with a key the image carries
// (cowboot build --add-key) before any line of it is believed. A fleet
// whose image packs a key boots only what that key signed.

import { createPublicKey, verify } from 'node:crypto';
import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { KEYS_DIR } from '../layout/image-paths';

export const SIGNATURE_SUFFIX = '.sig';

export interface PackedKey {
  readonly name: string;
  readonly pem: string;
}

/** The keys a fetched image's sums must be signed with: rd.live.pubkey='s, else every packed key; empty when the image packs none. */
export function signingKeys(ctx: Context): PackedKey[] {
  const packed = ctx.sys.lstat(KEYS_DIR)?.kind === 'dir' ? ctx.sys.readdir(KEYS_DIR).filter((f) => f.endsWith('.pem')).sort() : [];
  const keys = packed.map((file) => ({ name: file.slice(0, -'.pem'.length), pem: ctx.sys.readText(`${KEYS_DIR}/${file}`) }));
  const wanted = ctx.config.livePubkey;
  if (wanted === null) return keys;
  const key = keys.find((k) => k.name === wanted);
  if (key) return [key];
  throw new BootError(`rd.live.pubkey=${wanted}: the image carries no such key (${keys.length > 0 ? `it has ${keys.map((k) => k.name).join(', ')}` : 'it has none'})`, {
    hint: `build the image with cowboot build --add-key ${wanted}.pem`,
  });
}

/** A signature file holds the 64 bytes, or them in base64 on one line. */
function signatureBytes(file: Uint8Array): Buffer | null {
  if (file.length === 64) return Buffer.from(file);
  const text = Buffer.from(file).toString('ascii').trim();
  const decoded = /^[A-Za-z0-9+/]+=*$/.test(text) ? Buffer.from(text, 'base64') : null;
  return decoded?.length === 64 ? decoded : null;
}

/** The key that signed `sums`; fails naming the file and the keys tried. */
export function checkSignature(sums: Uint8Array, signature: Uint8Array, keys: readonly PackedKey[], sumsUrl: string): PackedKey {
  const bytes = signatureBytes(signature);
  if (bytes === null) {
    throw new BootError(`fetch: ${sumsUrl}${SIGNATURE_SUFFIX} is not an Ed25519 signature (${signature.length} bytes; expected 64, or them in base64)`, {
      hint: `sign with: openssl pkeyutl -sign -rawin -inkey KEY.pem -in SHA256SUMS -out SHA256SUMS${SIGNATURE_SUFFIX}`,
    });
  }
  const signer = keys.find((key) => verify(null, sums, createPublicKey(key.pem), bytes));
  if (signer) return signer;
  throw new BootError(`fetch: the signature ${sumsUrl}${SIGNATURE_SUFFIX} does not verify ${sumsUrl} with the key${keys.length > 1 ? 's' : ''} ${keys.map((k) => k.name).join(', ')}`, {
    hint: 'the sums were changed after signing, or signed with another key: boot nothing from this server until it serves what the fleet key signed',
  });
}
