// The root's /etc/crypttab, for the containers its fstab's filesystems are
// in: each is opened now, read-only, under the name the crypttab gives it,
// so that the booted system finds it open (systemd-cryptsetup and Debian's
// cryptdisks leave an active volume alone). A container already open under
// another name (luks-UUID, opened to find the root) is renamed to it. swap
// and tmp entries are never opened, since the booted system would format
// the partition: their devices are set read-only, and the union's crypttab
// has them commented out.

import type { Context } from '../core/context';
import { exec } from '../core/exec';
import { showSpec } from '../formats/device-spec';
import { type CrypttabEntry, crypttabUse, parseCrypttab } from '../formats/crypttab';
import { carriedMedium, mediumText } from '../formats/medium-copy';
import { CRYPTTAB } from '../layout/boot-paths';
import { NEW_ROOT } from '../layout/image-paths';
import type { Services } from '../kmod/services';
import { setReadOnly } from '../storage/block';
import { findDevice } from '../storage/find-device';
import { scanBlockDevices } from '../storage/scan';
import { openContainer } from '../storage/volumes';

// As for the fstab: the disks are there by now.
const DEVICE_WAIT_MS = 5000;

/** The dm name of the device holding `name` (an opened container), or null. */
function holderName(ctx: Context, name: string): string | null {
  try {
    const holder = ctx.sys.readdir(`/sys/class/block/${name}/holders`)[0];
    return holder ? ctx.sys.readText(`/sys/class/block/${holder}/dm/name`).trim() : null;
  } catch {
    return null;
  }
}

/** Opens (or renames) one entry's container; returns the line for the union's crypttab. */
async function handle(ctx: Context, services: Services, entry: CrypttabEntry): Promise<string> {
  const use = crypttabUse(entry);
  const wait = entry.options.includes('nofail') ? 0 : DEVICE_WAIT_MS;
  const path = entry.device === null ? null : (await findDevice(ctx, services, entry.device, wait, 'fstab')).path;
  if (!use.open) {
    if (path !== null && use.formats) await setReadOnly(ctx, path);
    ctx.log.info(`${CRYPTTAB}: ${entry.name} is left shut (${use.why})${path !== null && use.formats ? `; ${path} set read-only` : ''}`);
    return `# cowboot: left shut (${use.why}): ${entry.line.trim()}`;
  }
  if (path === null) {
    ctx.log.warn(`${CRYPTTAB}: ${entry.name}: ${showSpec(entry.device!)} is not there at boot`);
    return entry.line;
  }
  const device = scanBlockDevices(ctx.sys).find((d) => d.path === path);
  if (device?.fs?.type !== 'crypto_LUKS') {
    ctx.log.warn(`${CRYPTTAB}: ${entry.name}: ${path} is not a LUKS container (${device?.fs?.type ?? 'nothing known'}), so it is left to the booted system`);
    return entry.line;
  }
  const open = holderName(ctx, device.name);
  if (open === entry.name) return entry.line;
  if (open !== null) {
    // The booted system looks for the crypttab's name; dmsetup renames a device in use.
    await exec(ctx, ['dmsetup', '--noudevsync', 'rename', open, entry.name]);
    await exec(ctx, ['dmsetup', '--noudevsync', 'mknodes']);
    ctx.log.info(`${CRYPTTAB}: /dev/mapper/${open} renamed ${entry.name}, as the booted system names it`);
    return entry.line;
  }
  // A key script (Debian's keyscript=) cannot run here: its key file field is the script's argument.
  const keyFile = entry.keyFile && !entry.options.some((o) => o.startsWith('keyscript=')) ? entry.keyFile : null;
  await openContainer(ctx, services, device, {
    name: entry.name,
    keyFile: keyFile === null ? null : { path: `${NEW_ROOT}${keyFile}`, given: `${keyFile} (the key file of ${entry.name} in ${CRYPTTAB})`, hint: `${CRYPTTAB} names a key file the root does not hold` },
  });
  return entry.line;
}

/**
 * Opens what the root's crypttab asks for; writes the union's crypttab
 * where `writable` (the union takes writes), else only protects.
 */
export async function openCrypttab(ctx: Context, services: Services, writable: boolean): Promise<void> {
  if (!ctx.config.luks) return;
  const path = `${NEW_ROOT}${CRYPTTAB}`;
  let text: string;
  try {
    text = mediumText(ctx.sys.readText(path), 'crypttab');
  } catch {
    return;
  }
  const out = [`# Written at boot by cowboot: the crypttab on the disk is unchanged; what it would have formatted is commented out.`];
  for (const line of parseCrypttab(text)) out.push(line.kind === 'text' ? line.line : await handle(ctx, services, line.entry));
  if (writable) ctx.sys.writeText(path, `${[...out, ...carriedMedium(text, 'crypttab')].join('\n')}\n`);
}
