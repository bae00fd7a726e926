// The root's /etc/crypttab, read as systemd-cryptsetup-generator and
// Debian's cryptdisks read it: "name device keyfile options", blanks between.

import { parseRootSpec, type RootSpec } from './device-spec';

export interface CrypttabEntry {
  readonly name: string;
  /** The encrypted device: a path, UUID=, PARTUUID=, LABEL=…; null for what names no block device. */
  readonly device: RootSpec | null;
  /** A key file's path in the root; null: the passphrase is asked ("none", "-", or none given). */
  readonly keyFile: string | null;
  readonly options: readonly string[];
  readonly line: string;
}

export type CrypttabLine = { readonly kind: 'entry'; readonly entry: CrypttabEntry } | { readonly kind: 'text'; readonly line: string };

export function parseCrypttab(text: string): CrypttabLine[] {
  return text.split('\n').map((line): CrypttabLine => {
    const fields = line.trim().split(/\s+/);
    if (line.trim() === '' || line.trim().startsWith('#') || fields.length < 2) return { kind: 'text', line };
    const [name, device, key = 'none', options = ''] = fields;
    const keyFile = key === 'none' || key === '-' || key === '' ? null : key;
    return { kind: 'entry', entry: { name: name!, device: parseRootSpec(device!), keyFile, options: options.split(',').filter(Boolean), line } };
  });
}

/**
 * What a frozen boot does with an entry: open it (read-only), or never
 * touch it. swap and tmp make a fresh filesystem on the device at each
 * boot (with a random key): opening one formats the user's partition.
 */
export function crypttabUse(entry: CrypttabEntry): { readonly open: true } | { readonly open: false; readonly why: string; readonly formats: boolean } {
  const formats = entry.options.find((o) => o === 'swap' || o === 'tmp' || o.startsWith('tmp='));
  if (formats) return { open: false, why: `${formats}: the booted system would format ${entry.line.trim().split(/\s+/)[1]} as it opens it`, formats: true };
  if (entry.options.includes('noauto')) return { open: false, why: 'noauto: not opened at boot', formats: false };
  if (entry.device === null) return { open: false, why: 'its device is not a block device cowboot can find', formats: false };
  if (['plain', 'tcrypt', 'bitlk'].some((o) => entry.options.includes(o))) return { open: false, why: 'not LUKS: cowboot opens LUKS containers only', formats: false };
  return { open: true };
}
