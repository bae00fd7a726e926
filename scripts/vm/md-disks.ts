// RAID1 members for the VMs, as mdadm --create --metadata=1.2 leaves them:
// this machine has no md driver, and mdadm makes arrays only through it, so
// the version-1.2 superblock (4 KiB into each member) is written here, field
// by field as linux/raid/md_p.h lays it out, and the data copied after it.
// mdadm --examine reads what is written (a unit test checks), and mdadm
// --assemble in the guest assembles it.

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';

const MD_MAGIC = 0xa92b4efc;
const SUPER_OFFSET_SECTORS = 8;
const DATA_OFFSET_SECTORS = 2048;
// Room for 128 devices' roles, as mdadm leaves it: a 512-byte superblock.
const MAX_DEV = 128;

/** The superblock of member `role` of a clean RAID1 of `members` devices, each holding `dataSectors` of data. */
export function raid1Superblock(setUuid: Buffer, name: string, role: number, members: number, dataSectors: number, now: bigint): Buffer {
  const sb = Buffer.alloc(256 + MAX_DEV * 2);
  sb.writeUInt32LE(MD_MAGIC, 0);
  sb.writeUInt32LE(1, 4); // major_version
  setUuid.copy(sb, 16);
  sb.write(name.slice(0, 32), 32, 'latin1');
  sb.writeBigUInt64LE(now, 64); // ctime
  sb.writeUInt32LE(1, 72); // level: RAID1
  sb.writeBigUInt64LE(BigInt(dataSectors), 80); // size
  sb.writeUInt32LE(members, 92); // raid_disks
  sb.writeBigUInt64LE(BigInt(DATA_OFFSET_SECTORS), 128);
  sb.writeBigUInt64LE(BigInt(dataSectors), 136); // data_size
  sb.writeBigUInt64LE(BigInt(SUPER_OFFSET_SECTORS), 144);
  sb.writeUInt32LE(role, 160); // dev_number
  randomBytes(16).copy(sb, 168); // device_uuid
  sb.writeBigUInt64LE(now, 192); // utime
  sb.writeBigUInt64LE(1n, 200); // events
  sb.writeBigUInt64LE(0xffffffffffffffffn, 208); // resync_offset: in sync
  sb.writeUInt32LE(MAX_DEV, 220);
  for (let i = 0; i < MAX_DEV; i++) sb.writeUInt16LE(i < members ? i : 0xffff, 256 + i * 2);
  // The kernel's calc_sb_1_csum: 32-bit words summed into 64 bits, the carry folded in once.
  let sum = 0n;
  for (let at = 0; at < sb.length; at += 4) sum += BigInt(sb.readUInt32LE(at));
  sb.writeUInt32LE(Number(((sum & 0xffffffffn) + (sum >> 32n)) & 0xffffffffn), 216);
  return sb;
}

/**
 * The members of a clean RAID1 holding `image` (a filesystem image), as
 * files `${image}.md0`, `.md1`…; returns their paths.
 */
export function makeRaid1(image: string, name: string, setUuid: string, members = 2): string[] {
  const bytes = statSync(image).size;
  if (bytes % 512 !== 0) throw new Error(`${image}: not a whole number of sectors`);
  const uuid = Buffer.from(setUuid.replaceAll('-', ''), 'hex');
  // One creation time for all: mdadm takes members whose ctime differs for another array's, and leaves them out.
  const now = BigInt(Math.floor(Date.now() / 1000));
  return Array.from({ length: members }, (_, role) => {
    const member = `${image}.md${role}`;
    writeFileSync(member, '');
    truncateSync(member, DATA_OFFSET_SECTORS * 512 + bytes);
    const fd = openSync(member, 'r+');
    try {
      writeSync(fd, raid1Superblock(uuid, name, role, members, bytes / 512, now), 0, undefined, SUPER_OFFSET_SECTORS * 512);
    } finally {
      closeSync(fd);
    }
    execFileSync('dd', [`if=${image}`, `of=${member}`, 'bs=1M', `seek=${DATA_OFFSET_SECTORS * 512}`, 'oflag=seek_bytes', 'conv=notrunc,sparse', 'status=none']);
    return member;
  });
}
