// roothash=: the root (or the loop= image) under a dm-verity target, so the
// kernel checks every block it reads against the hash tree and refuses one
// that was changed, with an I/O error and a kernel log line; it never
// returns wrong data. A root hash that does not match refuses every block:
// the first one is read here, so that the boot stops with a message.

import { u16le, u32le } from '../formats/bytes';
import type { Config } from '../config';
import type { Context } from '../core/context';
import type { Services } from '../kmod/services';
import { BootError } from '../core/errors';
import { loadModule } from '../kmod/services';
import { showSpec, parseRootSpec } from '../formats/device-spec';
import { attachLoop } from './block';
import { createDmDevice } from './device-mapper';
import { describeSeen, findDevice } from './find-device';
import { readSuperblock, VERITY_SUPERBLOCK_BYTES, verityTable } from '../formats/verity-superblock';

export const VERITY_NAME = 'cowboot-verity';

/** An ext2/3/4 superblock's block size, or null for another filesystem. */
function extBlockSize(b: Uint8Array): number | null {
  return b.length >= 2048 && u16le(b, 1024 + 0x38) === 0xef53 ? 1024 << u32le(b, 1024 + 24) : null;
}

async function hashDevice(ctx: Context, services: Services, imageFile: string | null, { verityHash, rootdelay }: VeritySettings): Promise<string> {
  if (verityHash !== null) {
    const spec = parseRootSpec(verityHash)!;
    const found = await findDevice(ctx, services, spec, rootdelay * 1000);
    if (found.path === null) {
      throw new BootError(`systemd.verity_root_hash=${showSpec(spec)}: no such device within ${rootdelay} s`, { hint: `block devices seen: ${describeSeen(found.seen)}` });
    }
    return found.path;
  }
  if (imageFile === null) {
    throw new BootError('roothash= on a root device needs the device that holds its hash tree', { hint: 'name it with systemd.verity_root_hash=, as root= names a device' });
  }
  const tree = `${imageFile}.verity`;
  if (ctx.sys.lstat(tree)?.kind !== 'file') {
    throw new BootError(`roothash=: no hash tree beside the image (looked for ${tree})`, { hint: 'make it with: cowboot verity IMAGE, which writes IMAGE.verity and prints the root hash' });
  }
  return attachLoop(ctx, tree, true);
}

/** The settings verity reads: its own, and rootdelay= for the wait for a hash device. */
export type VeritySettings = Pick<Config, 'roothash' | 'verityOptions' | 'verityHash' | 'rootdelay'>;

/** The verity device over `data`; `imageFile`: the loop= image data is attached from, if any. */
export async function openVerity(ctx: Context, services: Services, data: string, imageFile: string | null, settings: VeritySettings): Promise<string> {
  const { roothash, verityOptions } = settings;
  const hash = await hashDevice(ctx, services, imageFile, settings);
  const sb = readSuperblock(ctx.sys.readHead(hash, VERITY_SUPERBLOCK_BYTES));
  if (typeof sb === 'string') throw new BootError(`the hash tree on ${hash}: ${sb}`);
  await loadModule(ctx, services, 'dm_verity', 'roothash=');
  const options = verityOptions.map((o) => o.replaceAll('-', '_'));
  const node = await createDmDevice(ctx, VERITY_NAME, verityTable(sb, data, hash, roothash!.toLowerCase(), options), { what: 'verity', readOnly: true, hint: 'the dm_verity module must be loaded' });
  let head: Uint8Array;
  try {
    head = ctx.sys.readHead(node, sb.dataBlockSize);
  } catch (error) {
    throw new BootError(`roothash=${roothash} does not match ${data} and the hash tree on ${hash}: the kernel refuses its first block`, {
      hint: `the image or its tree was changed, or roothash= is wrong (${(error as Error).message}); the kernel log names the block`,
    });
  }
  const extBlock = extBlockSize(head);
  if (extBlock !== null && extBlock < sb.dataBlockSize) {
    throw new BootError(`${data} holds ext2/3/4 with ${extBlock}-byte blocks, which the verity device's ${sb.dataBlockSize}-byte sectors cannot mount`, {
      hint: `make the image with ${sb.dataBlockSize}-byte blocks: mke2fs -b ${sb.dataBlockSize}`,
    });
  }
  ctx.log.info(`${node}: ${data} checked by dm-verity against ${hash}`);
  return node;
}
