import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { exec } from '../core/exec';

/** A device-mapper device with this table; returns its /dev/mapper node. `what` names its target in the log. */
export async function createDmDevice(ctx: Context, name: string, table: string, options: { readonly what: string; readonly readOnly: boolean; readonly hint: string }): Promise<string> {
  const node = `/dev/mapper/${name}`;
  // Tried again after the rescue shell (a later step failed): the device is there already.
  if (ctx.sys.lstat(node) !== null) {
    ctx.log.info(`${options.what} ${node} is already there`);
    return node;
  }
  // No udev in the initramfs: --noudevsync keeps dmsetup from waiting for it, and mknodes makes the node.
  await exec(ctx, ['dmsetup', '--noudevsync', 'create', ...(options.readOnly ? ['--readonly'] : []), name, '--table', table], options.hint);
  await exec(ctx, ['dmsetup', '--noudevsync', 'mknodes', name]);
  if (ctx.sys.lstat(node) === null) throw new BootError(`dmsetup made no ${node}`, { command: ['dmsetup', 'mknodes', name] });
  ctx.log.info(`${options.what} ${node}: ${table}`);
  return node;
}
