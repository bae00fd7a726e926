import { parseRootSpec, showSpec } from '../formats/device-spec';
import type { Context } from '../core/context';
import type { Services } from '../kmod/services';
import type { Stage } from './results';
import { BootError } from '../core/errors';
import { UNION_KINDS } from '../union';
import { MEDIUM_DIR, RO_DIR } from '../layout/boot-paths';
import { attachLoop, setReadOnly } from '../storage/block';
import { type Filesystem, identify, mountFilesystem, replaySpace, requireOneDevice, withLogReplayed } from '../storage/filesystem';
import { describeSeen, findDevice } from '../storage/find-device';
import { attachIso } from '../storage/iso-scan';
import { openVerity } from '../storage/dm-verity';
import { verifyMedium } from '../storage/medium-checksums';
import { copyToRam } from '../storage/toram';
import { requireModules } from '../kmod/services';
import { fetchLiveImage, liveUrlOf } from '../net/live-image';
import { attachNbd } from '../net/nbd-root';
import { mountNfs, nfsRootOf } from '../net/nfs-root';
import type { NfsRoot } from '../formats/nfs-root';

/** loop=: mounts the medium, finds the image on it (in RAM with toram) and attaches it read-only. */
async function attachImage(ctx: Context, services: Services, medium: string): Promise<{ device: string; image: string }> {
  const { loop, rootfstype, toram, verify } = ctx.config;
  const mediumFs = await identify(ctx, services, medium, rootfstype, 'rootfstype=');
  await setReadOnly(ctx, medium);
  await mountFilesystem(ctx, mediumFs, MEDIUM_DIR, 'ro');
  if (verify) await verifyMedium(ctx, MEDIUM_DIR);
  let image = `${MEDIUM_DIR}${loop}`;
  if (ctx.sys.lstat(image)?.kind !== 'file') {
    const folder = image.slice(0, image.lastIndexOf('/')) || MEDIUM_DIR;
    throw new BootError(`loop=${loop}: no such file on ${medium} (mounted on ${MEDIUM_DIR})`, {
      hint: `${folder} holds: ${ctx.sys.readdir(folder).join(' ') || 'nothing'}`,
    });
  }
  if (toram) image = await copyToRam(ctx, image);
  await requireModules(services);
  const device = await attachLoop(ctx, image, true);
  ctx.log.info(`${image} attached read-only to ${device}`);
  return { device, image };
}

/** A root from the network has no medium: the parameters that name something on one are refused. */
function refuseMediumParams(ctx: Context, what: string): void {
  for (const [param, given] of [['loop', ctx.config.loop], ['findiso', ctx.config.findiso], ['persist', ctx.config.persist]] as const) {
    if (given !== null) throw new BootError(`${param}=${given} with ${what}: the image is the root, and there is no medium for ${param}=`, { hint: `boot without ${param}=` });
  }
}

/** root=nbd:: the server's export is the root device, checked by roothash= (its tree given by systemd.verity_root_options= hash device) if asked. */
async function nbdRoot(ctx: Context, services: Services, root: string): Promise<{ device: string; fsType: string }> {
  refuseMediumParams(ctx, `an NBD root (${root})`);
  let device = await attachNbd(ctx, services, root);
  if (ctx.config.roothash !== null) device = await openVerity(ctx, services, device, null, ctx.config);
  const fs = await identify(ctx, services, device, ctx.config.rootfstype, 'rootfstype=');
  return mountReadOnly(ctx, services, device, fs);
}

/** root=nfs: or nfsroot=: the export is mounted read-only where a root device's filesystem would be; there is no device to put a snapshot on. */
async function nfsRoot(ctx: Context, services: Services, spec: NfsRoot, param: string): Promise<{ device: string; fsType: string }> {
  refuseMediumParams(ctx, `an NFS root (${param})`);
  const { overlay, roothash } = ctx.config;
  const use = UNION_KINDS[overlay].rootUse(ctx.config);
  if (use !== 'read-only folder') {
    throw new BootError(`overlay=${overlay}${use === 'writable device' ? ' rw' : ''} with an NFS root (${param}): it takes a block device, and an NFS export is a folder on the server`, {
      hint: 'boot with overlay=overlayfs (or unionfs), which puts the changes in RAM over the export mounted read-only',
    });
  }
  if (roothash !== null) throw new BootError(`roothash= with an NFS root (${param}): dm-verity checks a block device, and an NFS export is a folder on the server`, { hint: 'serve the image over NBD (root=nbd:) to check it with roothash=, or boot without roothash=' });
  await mountNfs(ctx, services, spec, param);
  return { device: `${spec.server}:${spec.path}`, fsType: 'nfs4' };
}

/** root=live:URL or fetch=: the image downloaded into RAM and attached read-only, then mounted as a loop= image is. */
async function fetchedRoot(ctx: Context, services: Services, url: string): Promise<{ device: string; fsType: string }> {
  refuseMediumParams(ctx, `a fetched image (${url})`);
  const image = await fetchLiveImage(ctx, url);
  await requireModules(services);
  let device = await attachLoop(ctx, image, true);
  ctx.log.info(`${image} attached read-only to ${device}`);
  if (ctx.config.roothash !== null) device = await openVerity(ctx, services, device, image, ctx.config);
  const fs = await identify(ctx, services, device, ctx.config.loopfstype, 'loopfstype=');
  return mountReadOnly(ctx, services, device, fs);
}

export const mountRoot: Stage<'root'> = {
  name: 'root',
  async run(ctx, before) {
    const services = before.drivers;
    const { root, overlay, loop, loopfstype, rootfstype, rootwait, rootdelay, findiso } = ctx.config;
    const limitMs = rootwait ? Number.POSITIVE_INFINITY : rootdelay * 1000;
    const url = liveUrlOf(ctx.config);
    if (url !== null) return fetchedRoot(ctx, services, url);
    if (root?.startsWith('nbd:')) return nbdRoot(ctx, services, root);
    const nfs = nfsRootOf(ctx.config);
    if (nfs !== null) return nfsRoot(ctx, services, nfs.spec, nfs.param);
    let holder: string | null = null;
    if (root === null && findiso === null) {
      throw new BootError('no root device: root= is not on the kernel command line nor in the image config', {
        hint: 'add root=/dev/... to the kernel command line (or findiso=/PATH for an ISO kept as a file)',
      });
    }
    if (root !== null) {
      const spec = parseRootSpec(root);
      if (spec === null) throw new BootError(`root=${root} is not a device path nor a LABEL=, UUID=, PARTUUID= or PARTLABEL=`);
      ctx.log.info(`looking for ${showSpec(spec)}${rootwait ? ' (rootwait: for ever)' : `, up to ${rootdelay} s`}`);
      const found = await findDevice(ctx, services, spec, limitMs);
      if (found.path === null) {
        throw new BootError(`root device ${showSpec(spec)} did not appear within ${rootdelay} s`, {
          hint: `block devices seen: ${describeSeen(found.seen)}; a missing driver can be added with modules=, a slow device given more time with rootdelay= or rootwait`,
        });
      }
      holder = found.path;
    }
    // With findiso=, the medium is the ISO file's loop device, as a CD would be.
    const medium = findiso === null ? holder! : await attachIso(ctx, services, holder, findiso, limitMs);
    if (ctx.config.roothash !== null && ctx.config.toram) {
      throw new BootError('roothash= with toram: the hash tree stays on the medium, which toram lets go', { hint: 'boot without toram to check the image with dm-verity' });
    }
    if (ctx.config.verify && loop === null) {
      throw new BootError('verify checks the files of a live medium, and there is none: give loop= too', { hint: 'boot without verify, or with loop=/PATH of the image on the medium' });
    }
    const kind = UNION_KINDS[overlay];
    const use = kind.rootUse(ctx.config);
    let device = medium;
    let image: string | null = null;
    if (loop !== null) ({ device, image } = await attachImage(ctx, services, medium));
    else if (use !== 'writable device') await setReadOnly(ctx, medium);
    if (ctx.config.roothash !== null) device = await openVerity(ctx, services, device, image, ctx.config);
    const fs = loop !== null ? await identify(ctx, services, device, loopfstype, 'loopfstype=') : await identify(ctx, services, device, rootfstype, 'rootfstype=');
    return mountReadOnly(ctx, services, device, fs);
  },
};

/** The root's filesystem mounted read-only on RO_DIR, or left as a device for the union kinds that take one. */
async function mountReadOnly(ctx: Context, services: Services, device: string, fs: Filesystem): Promise<{ device: string; fsType: string }> {
  const { overlay, rootflags } = ctx.config;
  const kind = UNION_KINDS[overlay];
  const use = kind.rootUse(ctx.config);
  if (kind.refuses?.formats.includes(fs.type)) {
    throw new BootError(`overlay=${overlay} cannot make ${fs.type} writable: ${kind.refuses.why}`, { hint: kind.refuses.hint });
  }
  // A root used as a device is mounted by the union stage, from that device alone.
  if (use !== 'read-only folder') {
    requireOneDevice(fs, use === 'writable device' ? `overlay=${overlay} rw mounts it from the first alone` : `overlay=${overlay} puts the first only under a snapshot, through which btrfs would write the others`);
    ctx.log.info(`${device} (${fs.type}) is the root device`);
    return { device, fsType: fs.type };
  }
  const readable = await withLogReplayed(ctx, services, fs, () => replaySpace(ctx));
  await mountFilesystem(ctx, readable, RO_DIR, ['ro', ...(rootflags ? [rootflags] : [])].join(','));
  ctx.log.info(`${readable.device} (${fs.type}) mounted read-only on ${RO_DIR}`);
  return { device, fsType: fs.type };
}
