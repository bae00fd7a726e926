import type { Context, Stage } from '../context';
import { BootError } from '../errors';
import { exec } from '../exec';
import { DETECT_BYTES, detectFsType, fsModule } from '../fs-detect';
import { mountOnce } from '../mount';
import { MEDIUM_DIR, RO_DIR } from '../paths';
import { attachLoop, setReadOnly } from '../storage/block';
import { copyToRam } from '../storage/toram';

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

async function waitForDevice(ctx: Context, device: string, rootdelay: number): Promise<void> {
  ctx.log.info(`waiting up to ${rootdelay} s for ${device}`);
  if (await ctx.sys.waitForPath(device, rootdelay * 1000)) return;
  const seen = ctx.sys.readdir('/sys/class/block');
  throw new BootError(`root device ${device} did not appear within ${rootdelay} s`, {
    hint: `block devices seen: ${seen.length > 0 ? seen.join(' ') : 'none'}; a missing driver can be added with modules=, a slow device given more time with rootdelay=`,
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
  await exec(ctx, ['modprobe', module], `the ${type} driver (module ${module}) is needed for ${device}`);
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
  const device = await attachLoop(ctx, image, true);
  ctx.log.info(`${image} attached read-only to ${device}`);
  return device;
}

export const mountRoot: Stage = {
  name: 'root',
  async run(ctx) {
    const { root, rootdelay, rootflags, overlay, loop, loopfstype, rootfstype, rw } = ctx.config;
    if (root === null) {
      throw new BootError('no root device: root= is not on the kernel command line nor in the image config', {
        hint: 'add root=/dev/... to the kernel command line',
      });
    }
    await waitForDevice(ctx, root, rootdelay);
    const writable = overlay === 'none' && rw;
    let device = root;
    if (loop !== null) device = await attachImage(ctx, root);
    else if (!writable) await setReadOnly(ctx, root);
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
