import { parseRootSpec, type RootSpec, showSpec } from '../blkid/root-spec';
import { type BlockDevice, describeDevice, diskLinks, matchesSpec, scanBlockDevices } from '../blkid/scan';
import type { Context, Stage } from '../context';
import { BootError } from '../errors';
import { DETECT_BYTES, detectFsType, fsModule } from '../fs-detect';
import { mountOnce } from '../mount';
import { MEDIUM_DIR, RO_DIR } from '../paths';
import { attachLoop, setReadOnly } from '../storage/block';
import { copyToRam } from '../storage/toram';
import { loadModule, requireModules } from './drivers';

// A device-mapper snapshot makes a block device writable; these formats stay
// read-only whatever the device allows.
const READ_ONLY_FORMATS = ['squashfs', 'iso9660', 'erofs'];

/** Block-device filesystems the kernel can mount now, from /proc/filesystems. */
export function kernelFilesystems(ctx: Context): string[] {
  try {
    return ctx.sys
      .readText('/proc/filesystems')
      .split('\n')
      .filter((line) => line.startsWith('\t'))
      .map((line) => line.trim());
  } catch {
    return [];
  }
}

function kernelKnows(ctx: Context): string {
  return `the kernel can mount: ${kernelFilesystems(ctx).join(' ') || 'nothing yet'}`;
}

// Without netlink (Node has none) and with no uevent helper in distribution
// kernels, devices are noticed through /dev; a device behind a bus whose
// driver is not loaded yet makes no node, so coldplug also runs this often.
const COLDPLUG_SAFETY_NET_MS = 1000;

function makeDiskLinks(ctx: Context, devices: readonly BlockDevice[]): void {
  for (const [link, target] of diskLinks(devices)) {
    try {
      ctx.sys.mkdirp(link.slice(0, link.lastIndexOf('/')));
      ctx.sys.symlink(target, link);
    } catch (error) {
      ctx.log.warn(`could not make ${link}: ${(error as Error).message}`);
    }
  }
}

/**
 * Waits for the device `spec` names: each change in /dev (or the safety-net
 * tick) runs coldplug for new devices and reads the block devices again.
 */
async function findDevice(ctx: Context, spec: RootSpec): Promise<string> {
  const { rootwait, rootdelay } = ctx.config;
  const limitMs = rootwait ? Number.POSITIVE_INFINITY : rootdelay * 1000;
  const deadline = ctx.sys.now() + limitMs;
  ctx.log.info(`looking for ${showSpec(spec)}${rootwait ? ' (rootwait: for ever)' : `, up to ${rootdelay} s`}`);
  let devices: BlockDevice[] = [];
  for (;;) {
    const seen = ctx.sys.deviceEvents();
    // A path names its node directly, block device in sysfs or not (a /dev/mapper name, say).
    if (spec.kind === 'path' && ctx.sys.lstat(spec.path) !== null) return spec.path;
    devices = scanBlockDevices(ctx.sys);
    makeDiskLinks(ctx, devices);
    const found = devices.find((d) => matchesSpec(d, spec));
    if (found) {
      ctx.log.info(`${showSpec(spec)} is ${describeDevice(found)}`);
      return found.path;
    }
    const left = deadline - ctx.sys.now();
    if (left <= 0) break;
    await ctx.sys.waitForDeviceEvent(seen, Math.min(left, COLDPLUG_SAFETY_NET_MS));
    ctx.state.background.push(ctx.state.coldplug());
  }
  throw new BootError(`root device ${showSpec(spec)} did not appear within ${rootdelay} s`, {
    hint: `block devices seen: ${devices.length > 0 ? devices.map(describeDevice).join('; ') : 'none'}; a missing driver can be added with modules=, a slow device given more time with rootdelay= or rootwait`,
  });
}

interface Filesystem {
  readonly device: string;
  readonly type: string;
  /** What the superblock says, whatever the user gave. */
  readonly detected: string | null;
  readonly module: string;
  readonly typeParam: string;
  readonly given: boolean;
}

/** The filesystem on `device`: the type given (`typeParam=`) or detected; its driver is loaded. */
async function identify(ctx: Context, device: string, given: string | null, typeParam: string): Promise<Filesystem> {
  const detected = detectFsType(ctx.sys.readHead(device, DETECT_BYTES));
  const type = given ?? detected;
  if (type === null) {
    throw new BootError(`no known filesystem on ${device}: no ext2/3/4, squashfs, iso9660, erofs, xfs, btrfs or vfat signature`, {
      hint: `${kernelKnows(ctx)}; no driver was loaded for it; if the device is right, give its type with ${typeParam}=`,
    });
  }
  const module = fsModule(type);
  await loadModule(ctx, module, `${type} on ${device}`);
  return { device, type, detected, module, typeParam, given: given !== null };
}

async function mountFilesystem(ctx: Context, fs: Filesystem, target: string, options: string): Promise<void> {
  try {
    await mountOnce(ctx, { type: fs.type, source: fs.device, target, options });
  } catch (error) {
    if (!(error instanceof BootError)) throw error;
    const looksLike = fs.detected === null ? 'no known signature' : `it looks like ${fs.detected}`;
    throw new BootError(error.message, {
      ...error.detail,
      hint: `${fs.device} was mounted as ${fs.type}${fs.given ? ` (${fs.typeParam}=)` : ''} and ${looksLike}; modules tried: ${fs.module}; ${kernelKnows(ctx)}`,
    });
  }
}

/** loop=: mounts the medium, finds the image on it (in RAM with toram) and attaches it read-only. */
async function attachImage(ctx: Context, medium: string): Promise<string> {
  const { loop, rootfstype, toram } = ctx.config;
  const mediumFs = await identify(ctx, medium, rootfstype, 'rootfstype');
  await setReadOnly(ctx, medium);
  await mountFilesystem(ctx, mediumFs, MEDIUM_DIR, 'ro');
  let image = `${MEDIUM_DIR}${loop}`;
  if (ctx.sys.lstat(image)?.kind !== 'file') {
    const folder = image.slice(0, image.lastIndexOf('/')) || MEDIUM_DIR;
    throw new BootError(`loop=${loop}: no such file on ${medium} (mounted on ${MEDIUM_DIR})`, {
      hint: `${folder} holds: ${ctx.sys.readdir(folder).join(' ') || 'nothing'}`,
    });
  }
  if (toram) image = await copyToRam(ctx, image);
  await requireModules(ctx);
  const device = await attachLoop(ctx, image, true);
  ctx.log.info(`${image} attached read-only to ${device}`);
  return device;
}

export const mountRoot: Stage = {
  name: 'root',
  async run(ctx) {
    const { root, rootflags, overlay, loop, loopfstype, rootfstype, rw } = ctx.config;
    if (root === null) {
      throw new BootError('no root device: root= is not on the kernel command line nor in the image config', {
        hint: 'add root=/dev/... to the kernel command line',
      });
    }
    const spec = parseRootSpec(root);
    if (spec === null) throw new BootError(`root=${root} is not a device path nor a LABEL=, UUID=, PARTUUID= or PARTLABEL=`);
    const medium = await findDevice(ctx, spec);
    const writable = overlay === 'none' && rw;
    let device = medium;
    if (loop !== null) device = await attachImage(ctx, medium);
    else if (!writable) await setReadOnly(ctx, medium);
    const fs = loop !== null ? await identify(ctx, device, loopfstype, 'loopfstype') : await identify(ctx, device, rootfstype, 'rootfstype');
    if (overlay === 'dm' && READ_ONLY_FORMATS.includes(fs.type)) {
      throw new BootError(`overlay=dm cannot make ${fs.type} writable: the format itself is read-only, whatever the device below allows`, {
        hint: 'use overlay=overlayfs or overlay=unionfs for this root',
      });
    }
    ctx.state.rootDevice = device;
    ctx.state.rootFsType = fs.type;
    // The snapshot, and a writable root without union, are mounted by the union stage.
    if (overlay === 'dm' || writable) {
      ctx.log.info(`${device} (${fs.type}) is the root device`);
      return;
    }
    await mountFilesystem(ctx, fs, RO_DIR, ['ro', ...(rootflags ? [rootflags] : [])].join(','));
    ctx.log.info(`${device} (${fs.type}) mounted read-only on ${RO_DIR}`);
  },
};
