// root=nbd:HOST:PORT[:EXPORT]: the server's export as a read-only block
// device, by the kernel's nbd driver and Debian's nbd-client (netlink: it
// hands the socket to the kernel and exits, so nothing of it runs across
// switch_root). Nothing is downloaded whole: the kernel reads the blocks the
// system asks for, so a 512 MiB client boots an image of any size. The
// union goes on top as over any device.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { exec } from '../core/exec';
import { parseNbdRoot } from '../formats/nbd-root';
import { loadModule, type Services } from '../kmod/services';
import { VOLUME_TOOLS } from '../layout/image-paths';
import { setReadOnly } from '../storage/block';
import { bringUpNetwork } from './network';
import { keepNetwork } from './network-handover';

const DEVICE = '/dev/nbd0';
const DEVICE_WAIT_MS = 5000;

/** Connects the export; returns its device, read-only. */
export async function attachNbd(ctx: Context, services: Services, root: string): Promise<string> {
  const spec = parseNbdRoot(root);
  // The config stage has refused a bad value already; this only narrows the type.
  if ('error' in spec) throw new BootError(`root=${root}: ${spec.error}`);
  const tool = VOLUME_TOOLS['nbd-client'];
  if (ctx.sys.lstat(tool.path) === null) {
    throw new BootError(`root=${root}: this image has no nbd-client (${tool.path})`, { hint: `build the image with cowboot build --volumes nbd, on a machine with Debian's ${tool.debianPackage} installed` });
  }
  const network = await bringUpNetwork(ctx, `root=${root}`);
  await loadModule(ctx, services, 'nbd', 'root=nbd:');
  if (!(await ctx.sys.waitForPath(DEVICE, DEVICE_WAIT_MS))) throw new BootError(`${DEVICE} did not appear within ${DEVICE_WAIT_MS / 1000} s of loading nbd`);
  const server = `${spec.host}:${spec.port}`;
  const started = ctx.sys.now();
  await exec(ctx, ['nbd-client', spec.host, String(spec.port), DEVICE, ...(spec.name === null ? [] : ['-name', spec.name]), '-readonly', '-block-size', '4096'], `root=${root}: the NBD server ${server} did not give ${spec.name === null ? 'its default export' : `the export ${spec.name}`}`);
  await setReadOnly(ctx, DEVICE);
  const bytes = Number(ctx.sys.readText('/sys/block/nbd0/size').trim()) * 512;
  ctx.events.emit({ kind: 'nbd-connected', server, name: spec.name ?? '(default)', device: DEVICE, bytes, ms: Math.round(ctx.sys.now() - started) });
  keepNetwork(ctx, network, `root=${root}`);
  return DEVICE;
}
