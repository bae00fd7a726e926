// findiso= (iso-scan/filename=): an ISO kept as a file on a stick, as GRUB's
// loopback and Ventoy boot it. The filesystem that holds it is the root=
// device, or the first device where the path exists; it is mounted
// read-only, its device made read-only, and the ISO attached read-only to a
// loop device, which is then the medium as a CD would be.

import { type BlockDevice, describeDevice } from './scan';
import type { Context } from '../core/context';
import type { Services } from '../kmod/services';
import { BootError } from '../core/errors';
import { exec } from '../core/exec';
import { requireModules } from '../kmod/services';
import { ISO_SCAN_DIR } from '../layout/boot-paths';
import { attachLoop, setReadOnly } from './block';
import { identify, lookingOptions, mountFilesystem } from './filesystem';
import { describeSeen, waitForDevice } from './find-device';

// Filesystems that hold no files a user copies an ISO to.
const NOT_HOLDERS = new Set(['swap', 'squashfs', 'erofs']);

/** Mounts `device` on ISO_SCAN_DIR and keeps it there if it holds `path`. */
async function holds(ctx: Context, services: Services, device: string, path: string): Promise<boolean> {
  const fs = await identify(ctx, services, device, null, 'findiso=');
  await mountFilesystem(ctx, fs, ISO_SCAN_DIR, lookingOptions(fs.type));
  if (ctx.sys.lstat(`${ISO_SCAN_DIR}${path}`)?.kind === 'file') return true;
  await exec(ctx, ['umount', ISO_SCAN_DIR]);
  return false;
}

/** The ISO's loop device. `holder`: the root= device, or null to look on every device. */
export async function attachIso(ctx: Context, services: Services, holder: string | null, path: string, limitMs: number): Promise<string> {
  ctx.sys.mkdirp(ISO_SCAN_DIR);
  let device = holder;
  if (device === null) {
    const tried = new Set<string>();
    const found = await waitForDevice(ctx, services, limitMs, async (devices: readonly BlockDevice[]) => {
      for (const candidate of devices) {
        if (candidate.fs === null || NOT_HOLDERS.has(candidate.fs.type) || tried.has(candidate.path)) continue;
        tried.add(candidate.path);
        try {
          if (await holds(ctx, services, candidate.path, path)) {
            ctx.log.info(`findiso=${path} is on ${describeDevice(candidate)}`);
            return candidate.path;
          }
        } catch (error) {
          // Another disk whose filesystem the image cannot mount (xfs, say) is no reason to stop looking.
          if (!(error instanceof BootError)) throw error;
          ctx.log.warn(`findiso=${path}: cannot look on ${describeDevice(candidate)}: ${error.message}`);
        }
      }
      return null;
    });
    if (found.path === null) {
      throw new BootError(`findiso=${path}: no device holds that file, within ${limitMs / 1000} s`, {
        hint: `looked on: ${[...tried].join(' ') || 'no device with a filesystem'}; block devices seen: ${describeSeen(found.seen)}; name the device with root=`,
      });
    }
    device = found.path;
  } else if (!(await holds(ctx, services, device, path))) {
    const folder = path.slice(0, path.lastIndexOf('/'));
    throw new BootError(`findiso=${path}: no such file on ${device}`, { hint: `${ISO_SCAN_DIR}${folder} holds: ${ctx.sys.readdir(`${ISO_SCAN_DIR}${folder}`).join(' ') || 'nothing'}` });
  }
  await setReadOnly(ctx, device);
  await requireModules(services);
  const iso = await attachLoop(ctx, `${ISO_SCAN_DIR}${path}`, true);
  ctx.log.info(`${ISO_SCAN_DIR}${path} attached read-only to ${iso}`);
  return iso;
}
