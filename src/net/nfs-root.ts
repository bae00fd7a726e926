// An NFS root: the server's export mounted read-only on RO_DIR over NFSv4,
// the union on top as over any read-only folder. The kernel's NFS client
// does the work (nfsv4 and what it needs are in every image); the mount's
// options are the kernel's own, with the server's address resolved here, as
// mount.nfs would pass it. A hung NFS mount cannot be interrupted, so the
// server is first reached with a plain TCP connection, tried again until
// rootdelay= runs out: a server that is down or unreachable is a bounded
// wait that names it, not a boot that hangs.

import type { Context } from '../core/context';
import type { Config } from '../config';
import { BootError } from '../core/errors';
import { mountOnce } from '../core/mount';
import { type NfsRoot, parseNfsRoot, parseNfsrootParam, showNfsRoot } from '../formats/nfs-root';
import { loadModule, type Services } from '../kmod/services';
import { RO_DIR } from '../layout/boot-paths';
import { bringUpNetwork } from './network';
import { keepNetwork } from './network-handover';

const RETRY_MS = 1000;

/** The NFS root the command line names, and the parameter that names it; null for any other root. */
export function nfsRootOf(config: Pick<Config, 'root' | 'nfsroot'>): { readonly spec: NfsRoot; readonly param: string } | null {
  const { root, nfsroot } = config;
  if (root?.startsWith('nfs:') || root?.startsWith('nfs4:')) return { spec: narrowed(`root=${root}`, parseNfsRoot(root)), param: `root=${root}` };
  if (root !== '/dev/nfs' && !(root === null && nfsroot !== null)) return null;
  if (nfsroot === null) throw new BootError('root=/dev/nfs names the root by nfsroot=, and there is none', { hint: 'add nfsroot=SERVER:/PATH, or give root=nfs:SERVER:/PATH' });
  return { spec: narrowed(`nfsroot=${nfsroot}`, parseNfsrootParam(nfsroot)), param: `nfsroot=${nfsroot}` };
}

function narrowed(param: string, parsed: NfsRoot | { readonly error: string }): NfsRoot {
  // The config stage has refused a bad value already; this only narrows the type.
  if ('error' in parsed) throw new BootError(`${param}: ${parsed.error}`);
  return parsed;
}

/** Reaches the server, within rootdelay=; its address. */
async function reach(ctx: Context, spec: NfsRoot, param: string): Promise<string> {
  const limitMs = ctx.config.rootdelay * 1000;
  const deadline = ctx.sys.now() + limitMs;
  for (let tries = 1; ; tries++) {
    const left = Math.max(deadline - ctx.sys.now(), RETRY_MS);
    const reached = await ctx.sys.connectTcp(spec.server, spec.port, left);
    if ('address' in reached) return reached.address;
    if (ctx.sys.now() + RETRY_MS >= deadline) {
      throw new BootError(`${param}: the NFS server ${spec.server} port ${spec.port} was not reached within ${ctx.config.rootdelay} s (${tries} tries; last: ${reached.error})`, {
        hint: 'check that the server runs its NFS service and that this network reaches it; a server that starts later can be given more time with rootdelay=',
      });
    }
    if (tries === 1) ctx.log.info(`nfs: ${spec.server} port ${spec.port}: ${reached.error}; trying again for up to ${ctx.config.rootdelay} s`);
    await ctx.sys.sleep(RETRY_MS);
  }
}

/** Mounts the export read-only on RO_DIR, the network kept for the booted system. */
export async function mountNfs(ctx: Context, services: Services, spec: NfsRoot, param: string): Promise<void> {
  const network = await bringUpNetwork(ctx, param);
  const address = await reach(ctx, spec, param);
  await loadModule(ctx, services, 'nfsv4', param);
  const started = ctx.sys.now();
  const source = `${address}:${spec.path}`;
  await mountOnce(
    ctx,
    { type: 'nfs4', source, target: RO_DIR, options: ['ro', `addr=${address}`, ...spec.options].join(',') },
    `${showNfsRoot(spec)} must be exported to this client over NFSv4 (the kernel's server: a line for ${spec.path} in /etc/exports, exportfs -v; nfs-ganesha: an EXPORT whose Pseudo is ${spec.path})`,
  );
  ctx.events.emit({ kind: 'nfs-mounted', server: spec.server, path: spec.path, address, ms: Math.round(ctx.sys.now() - started) });
  keepNetwork(ctx, network, param);
}
