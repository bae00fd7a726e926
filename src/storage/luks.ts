// LUKS1 and LUKS2 containers opened read-only with cryptsetup, by a key
// file in the image (rd.luks.key=) or a passphrase asked on the console.
// The secret goes to cryptsetup on its stdin, never in argv or the log, and
// its bytes are wiped once cryptsetup has them.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { checked } from '../core/exec';
import { argon2MemoryBytes, luks2HeaderBytes } from '../formats/luks2-header';
import { formatBytes, parseMeminfo } from '../formats/size';
import type { BlockDevice } from './scan';

export const PASSPHRASE_TRIES = 3;

// dm-crypt, with what LUKS's default (aes-xts-plain64) and LUKS1's older one
// (aes-cbc-essiv) need beyond the built-in AES, and the kernel crypto API
// for programs, through which cryptsetup decrypts the key slots.
export const LUKS_MODULES = ['dm_crypt', 'xts', 'essiv', 'algif_skcipher'] as const;


// cryptsetup's exit status for a key that opens no key slot.
const NO_KEY = 2;

/** dracut's name for an opened container, which systemd-cryptsetup keeps too: luks-UUID. */
export function luksName(uuid: string): string {
  return `luks-${uuid}`;
}

function openCommand(device: string, name: string, readOnly: boolean, keyFile: string): string[] {
  // No locking (no writable /run/cryptsetup yet), no token plugins (nothing of the root's can run here), one try per key.
  return ['cryptsetup', 'open', '--type', 'luks', ...(readOnly ? ['--readonly'] : []), '--disable-locks', '--disable-external-tokens', '--tries=1', `--key-file=${keyFile}`, device, name];
}

/**
 * argon2id, LUKS2's default, asks for up to 1 GiB per try: more than a
 * small machine may have free, and the kernel would kill a process for it.
 */
function checkMemory(ctx: Context, device: string): void {
  const head = ctx.sys.readHead(device, 4096);
  const needs = argon2MemoryBytes(ctx.sys.readHead(device, luks2HeaderBytes(head)));
  if (needs === 0) return;
  const { available } = parseMeminfo(ctx.sys.readText('/proc/meminfo'));
  if (needs > available) {
    throw new BootError(`${device}: a key slot of this LUKS2 container asks argon2 for ${formatBytes(needs)} of memory to try a passphrase, and only ${formatBytes(available)} is free`, {
      hint: 'boot with more RAM, or add a key slot that asks for less (cryptsetup luksAddKey --pbkdf-memory) from a machine that has it',
    });
  }
  ctx.log.info(`${device}: its key slots ask argon2 for up to ${formatBytes(needs)} of memory; ${formatBytes(available)} is free`);
}

export interface LuksOpening {
  /** Its /dev/mapper name. */
  readonly name: string;
  readonly readOnly: boolean;
  /** A key file to try before the passphrase is asked, and what names it, for the messages. */
  readonly keyFile: { readonly path: string; readonly given: string; readonly hint: string } | null;
}

/** Opens a LUKS container; returns its /dev/mapper node. Three wrong passphrases, or none to be read, fail the boot. */
export async function openLuks(ctx: Context, device: BlockDevice, opening: LuksOpening): Promise<string> {
  const uuid = device.fs?.uuid ?? device.name;
  const { name, readOnly } = opening;
  const node = `/dev/mapper/${name}`;
  const how = readOnly ? 'read-only' : 'read-write';
  checkMemory(ctx, device.path);
  const keyFile = opening.keyFile?.path ?? null;
  if (opening.keyFile && ctx.sys.lstat(opening.keyFile.path)?.kind !== 'file') {
    throw new BootError(`${opening.keyFile.given}: no such file`, { hint: opening.keyFile.hint });
  }
  if (keyFile !== null) {
    const command = openCommand(device.path, name, readOnly, keyFile);
    const result = await ctx.sys.run(command);
    if (result.status !== 0 && result.status !== NO_KEY) checked(command, result);
    if (result.status === 0) {
      ctx.log.info(`${device.path} (LUKS UUID=${uuid}) opened ${how} as ${node}, with the key file ${opening.keyFile!.given}`);
      return node;
    }
    ctx.log.warn(`the key file ${opening.keyFile!.given} does not open ${device.path}: ${result.stderr.trim() || `cryptsetup exited with status ${result.status}`}; asking for its passphrase`);
  }
  for (let attempt = 1; attempt <= PASSPHRASE_TRIES; attempt++) {
    const secret = await ctx.sys.readSecret(`Passphrase for ${device.path} (LUKS UUID=${uuid}): `);
    if (secret === null) throw new BootError(`${device.path} is encrypted (LUKS UUID=${uuid}) and the console cannot be read to ask for its passphrase`, { hint: 'give a key file in the image with rd.luks.key=' });
    const command = openCommand(device.path, name, readOnly, '-');
    let result;
    try {
      result = await ctx.sys.run(command, { input: secret });
    } finally {
      secret.fill(0);
    }
    if (result.status === 0) {
      ctx.log.info(`${device.path} (LUKS UUID=${uuid}) opened ${how} as ${node}`);
      return node;
    }
    // Anything but a wrong passphrase is not the user's to retry.
    if (result.status !== NO_KEY) checked(command, result);
    ctx.log.warn(`wrong passphrase for ${device.path} (attempt ${attempt} of ${PASSPHRASE_TRIES})`);
  }
  throw new BootError(`${PASSPHRASE_TRIES} wrong passphrases for ${device.path} (LUKS UUID=${uuid})`, { hint: 'the passphrase is the one the installer asked for; the keyboard here is a US layout' });
}
