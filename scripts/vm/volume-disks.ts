// The volumes installers make, for the VMs: an LVM volume group and a LUKS
// container, made with lvm2's and cryptsetup's own tools on this machine,
// which has no device-mapper. lvm writes the metadata only (activation
// off), and each volume's filesystem is copied to where its extents lie;
// cryptsetup encrypts an image offline, in place, with the kernel's crypto
// API, as `cryptsetup reencrypt --encrypt` does for a disk already in use.

import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from './image';
import { VM_CACHE } from './project';

const MIB = 2 ** 20;

export interface LogicalVolume {
  readonly name: string;
  /** The filesystem image that fills it. */
  readonly image: string;
}

/** lvm confined to one device, without the device-mapper this machine lacks, and without leaving hints or a devices file behind. */
function lvm(device: string, args: readonly string[]): string {
  return execFileSync('lvm', [args[0]!, '--devices', device, '--config', 'devices/hints="none" devices/use_devicesfile=0', '--driverloaded', 'n', ...args.slice(1)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * A physical volume holding volume group `vg`, whose linear logical volumes
 * hold the images given, in order; returns the disk's path.
 */
export function makeLvmDisk(name: string, vg: string, volumes: readonly LogicalVolume[]): string {
  const disk = join(VM_CACHE, `${name}.lvm`);
  const sizes = volumes.map((v) => Math.ceil(statSync(v.image).size / (4 * MIB)) * 4);
  mkdirSync(VM_CACHE, { recursive: true });
  rmSync(disk, { force: true });
  writeFileSync(disk, '');
  // The first MiB holds the label and the metadata area; 4 MiB extents.
  truncateSync(disk, (sizes.reduce((n, s) => n + s, 0) + 8) * MIB);
  const loop = execFileSync('losetup', ['-f', '--show', disk], { encoding: 'utf8' }).trim();
  try {
    lvm(loop, ['pvcreate', '-q', loop]);
    lvm(loop, ['vgcreate', '-q', '-s', '4M', vg, loop]);
    volumes.forEach((v, i) => lvm(loop, ['lvcreate', '-q', '-an', '-Zn', '-y', '-L', `${sizes[i]}M`, '-n', v.name, vg]));
    const peStart = Number(lvm(loop, ['pvs', '--noheadings', '--units', 'b', '--nosuffix', '-o', 'pe_start', loop]).trim());
    for (const line of lvm(loop, ['lvs', '--noheadings', '-o', 'lv_name,seg_pe_ranges', vg]).trim().split('\n')) {
      const [lv, ranges] = line.trim().split(/\s+/);
      const volume = volumes.find((v) => v.name === lv)!;
      const firstExtent = Number(/:(\d+)-/.exec(ranges ?? '')?.[1]);
      execFileSync('dd', [`if=${volume.image}`, `of=${loop}`, 'bs=1M', `seek=${peStart / MIB + firstExtent * 4}`, 'conv=notrunc,sparse', 'status=none']);
    }
  } finally {
    spawnSync('losetup', ['-d', loop]);
  }
  return disk;
}

export interface Luks {
  readonly uuid: string;
  readonly passphrase: string;
  /** A key file that opens it too (a second key slot). */
  readonly keyFile?: string;
  /** cryptsetup's key-derivation options; PBKDF2 at 1000 iterations unless given. */
  readonly kdf?: readonly string[];
}

// Half of it is the LUKS2 header, which the data is moved up to make room for.
const HEADER_ROOM = '16M';

/**
 * A copy of `image` encrypted as LUKS2 (the header in front), which opens to
 * exactly `image`; returns its path. The key slots use PBKDF2 at 1000
 * iterations unless told: an installer's argon2id would cost the VMs
 * seconds per try.
 */
export function encryptedCopy(image: string, luks: Luks, suffix = 'luks'): string {
  const encrypted = `${image}.${suffix}`;
  copyFileSync(image, encrypted);
  truncateSync(encrypted, statSync(image).size + 16 * MIB);
  const kdf = luks.kdf ?? ['--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000'];
  execFileSync('cryptsetup', ['reencrypt', '--encrypt', '--type', 'luks2', '--reduce-device-size', HEADER_ROOM, '--uuid', luks.uuid, ...kdf, '--batch-mode', '--key-file=-', encrypted], { input: luks.passphrase });
  if (luks.keyFile) {
    execFileSync('cryptsetup', ['luksAddKey', ...kdf, '--batch-mode', '--key-file=-', encrypted, luks.keyFile], { input: luks.passphrase });
  }
  // reencrypt leaves the device 8 MiB larger than the plaintext needs: cut it back, as a partition of the right size would be.
  const dataOffset = Number(/offset: (\d+) \[bytes\]/.exec(execFileSync('cryptsetup', ['luksDump', encrypted], { encoding: 'utf8' }))?.[1]);
  truncateSync(encrypted, dataOffset + statSync(image).size);
  return encrypted;
}

/** A key file packed into the volume tests' image at /etc/keys/root.key (rd.luks.key=/etc/keys/root.key). */
export const VOLUMES_KEY_FILE = join(VM_CACHE, 'volumes-root.key');

/** The image the volume tests boot: lvm, cryptsetup and mdadm in it, and the key file; built once per run. */
export function volumesImage(): string {
  mkdirSync(VM_CACHE, { recursive: true });
  writeFileSync(VOLUMES_KEY_FILE, 'a key file of random-looking bytes: 4f9c1e7a\n');
  return buildImage('cowboot-volumes', ['--volumes', 'lvm,luks,md', '--add-file', `${VOLUMES_KEY_FILE}:/etc/keys/root.key`]);
}
