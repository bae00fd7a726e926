// Debian 13 on the layouts installers make besides plain partitions, for
// the VM tests: Debian's "set up LVM" and "set up encrypted LVM", its root
// on a LUKS2 partition and on RAID1, Fedora's btrfs with the root and /home
// in subvolumes, RHEL's xfs. Each disk is made once per process, from the
// root scripts/setup.mjs made with the layouts' tools (lvm2, cryptsetup,
// mdadm, btrfs-progs, xfsprogs), with the fstab, crypttab and mdadm.conf the
// installer writes, and shared by the boots of every union.

import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_UUIDS, makeRootImage, makeRootTree } from './debian';
import { makeGptDisk, writeFiles } from './guest';
import { hostFsOfTree } from './host-filesystems';
import { makeRaid1 } from './md-disks';
import { VM_CACHE } from './project';
import { encryptedCopy, makeLvmDisk } from './volume-disks';

export type DebianLayout = 'lvm' | 'encrypted-lvm' | 'luks' | 'raid1' | 'raid1-degraded' | 'btrfs' | 'xfs';

export interface LayoutDisks {
  /** /dev/vda, /dev/vdb… in order. */
  readonly disks: readonly string[];
  /** root= (and rootflags=) as GRUB's 10_linux writes them for this layout. */
  readonly append: string;
  /** Typed at the console, where the root is encrypted. */
  readonly passphrase?: string;
  /** The root's filesystem. */
  readonly fsType: 'ext4' | 'btrfs' | 'xfs';
  /** /home is a filesystem of its own (an LV, a subvolume), which holds the file "owner". */
  readonly home: 'lv' | 'subvolume' | null;
}

export const LAYOUT_NAMES: Record<DebianLayout, string> = {
  lvm: 'LVM (root, /home, swap as LVs)',
  'encrypted-lvm': 'LVM in LUKS2 (passphrase), as the installer makes it',
  luks: 'LUKS2 partition (passphrase)',
  raid1: 'RAID1, whole',
  'raid1-degraded': 'RAID1, one member missing',
  btrfs: 'btrfs, root and /home in subvolumes',
  xfs: 'xfs',
};

export const LAYOUT_IDS = {
  vg: 'debian-vg',
  luksUuid: '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b',
  passphrase: 'frozen laptop',
  raidUuid: 'b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e',
} as const;

const HEAD = '# /etc/fstab: static file system information.\n# <file system> <mount point>   <type>  <options>       <dump>  <pass>\n';
const LVM_FSTAB = `${HEAD}/dev/mapper/debian--vg-root /               ext4    errors=remount-ro 0       1
/dev/mapper/debian--vg-home /home           ext4    defaults        0       2
/dev/mapper/debian--vg-swap_1 none            swap    sw              0       0
`;
// The installer's crypttab, and a random-key swap disk users add beside it.
const CRYPTTAB = `vda1_crypt UUID=${LAYOUT_IDS.luksUuid} none luks,discard\n`;
const CRYPTSWAP = 'cryptswap /dev/vdb /dev/urandom swap,cipher=aes-xts-plain64,size=256\n';
const mdUuid = (uuid: string) => uuid.replaceAll('-', '').match(/.{8}/g)!.join(':');
const MDADM_CONF = `HOMEHOST <system>\nMAILADDR root\nARRAY /dev/md/0 metadata=1.2 UUID=${mdUuid(LAYOUT_IDS.raidUuid)} name=frozen-volumes:0\n`;

const ROOT = `root=UUID=${DEBIAN_UUIDS.root}`;
const OWNER = { '/owner': 'alice\n' };

/** A small ext4 filesystem holding `files`. */
function ext4Of(name: string, files: Readonly<Record<string, string>>, sizeMiB: number): string {
  const tree = join(VM_CACHE, `${name}.tree`);
  const image = join(VM_CACHE, `${name}.ext4`);
  rmSync(tree, { recursive: true, force: true });
  rmSync(image, { force: true });
  mkdirSync(tree, { recursive: true });
  writeFiles(tree, files);
  execFileSync('mke2fs', ['-q', '-t', 'ext4', '-E', 'lazy_itable_init=0,lazy_journal_init=0', '-d', tree, image, `${sizeMiB}M`]);
  rmSync(tree, { recursive: true, force: true });
  return image;
}

function swapOf(name: string, sizeMiB: number): string {
  const swap = join(VM_CACHE, `${name}.swap`);
  writeFileSync(swap, Buffer.alloc(sizeMiB * 2 ** 20));
  execFileSync('mkswap', ['-q', swap]);
  return swap;
}

/** The volume group "set up LVM" makes: root, swap_1 and home. */
function volumeGroup(name: string, fstab: string, files: Readonly<Record<string, string>> = {}): string {
  const volumes = [
    { name: 'root', image: makeRootImage(name, 'volumes', 'trixie', fstab, files) },
    { name: 'swap_1', image: swapOf(`${name}-swap`, 8) },
    { name: 'home', image: ext4Of(`${name}-home`, OWNER, 16) },
  ];
  return consumed(makeLvmDisk(`${name}-vg`, LAYOUT_IDS.vg, volumes), ...volumes.map((v) => v.image));
}

/** `made`, once the files it was made from are removed: the disks are large. */
function consumed<T>(made: T, ...inputs: string[]): T {
  for (const input of inputs) rmSync(input, { force: true });
  return made;
}

/** The installer's one partition on the disk, holding the LUKS2 container. */
function encryptedPartition(name: string, image: string): string {
  const container = encryptedCopy(image, { uuid: LAYOUT_IDS.luksUuid, passphrase: LAYOUT_IDS.passphrase });
  return consumed(makeGptDisk(name, container, 'luks', '4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c'), image, container);
}

function hostFsRoot(name: string, type: 'btrfs' | 'xfs', fstab: string, subvolumes: readonly string[] = []): string {
  const tree = makeRootTree(name, 'volumes', 'trixie', fstab);
  try {
    return hostFsOfTree(name, tree, { type, uuid: DEBIAN_UUIDS.root, sizeMiB: 1024, subvolumes, contents: { '@home': OWNER } });
  } finally {
    rmSync(tree, { recursive: true, force: true });
  }
}

let raidMembers: string[] | null = null;
function raid1(): string[] {
  if (raidMembers) return raidMembers;
  const root = makeRootImage('trixie-raid1', 'volumes', 'trixie', `${HEAD}UUID=${DEBIAN_UUIDS.root} /               ext4    errors=remount-ro 0       1\n`, { '/etc/mdadm/mdadm.conf': MDADM_CONF });
  raidMembers = consumed(makeRaid1(root, 'frozen-volumes:0', LAYOUT_IDS.raidUuid), root);
  return raidMembers;
}

function make(layout: DebianLayout): LayoutDisks {
  switch (layout) {
    case 'lvm':
      return { disks: [volumeGroup('trixie-lvm', LVM_FSTAB)], append: 'root=/dev/mapper/debian--vg-root', fsType: 'ext4', home: 'lv' };
    case 'encrypted-lvm': {
      const swap = join(VM_CACHE, 'trixie-cryptswap.img');
      writeFileSync(swap, Buffer.alloc(4 * 2 ** 20, 0x5a));
      const vg = volumeGroup('trixie-encrypted-lvm', `${LVM_FSTAB}/dev/mapper/cryptswap none swap sw 0 0\n`, { '/etc/crypttab': CRYPTTAB + CRYPTSWAP });
      return { disks: [encryptedPartition('trixie-encrypted-lvm', vg), swap], append: 'root=/dev/mapper/debian--vg-root', passphrase: LAYOUT_IDS.passphrase, fsType: 'ext4', home: 'lv' };
    }
    case 'luks': {
      const root = makeRootImage('trixie-luks', 'volumes', 'trixie', `${HEAD}/dev/mapper/vda1_crypt /               ext4    errors=remount-ro 0       1\n`, { '/etc/crypttab': CRYPTTAB });
      return { disks: [encryptedPartition('trixie-luks', root)], append: ROOT, passphrase: LAYOUT_IDS.passphrase, fsType: 'ext4', home: null };
    }
    case 'raid1':
      return { disks: raid1(), append: ROOT, fsType: 'ext4', home: null };
    case 'raid1-degraded':
      return { disks: raid1().slice(0, 1), append: ROOT, fsType: 'ext4', home: null };
    case 'btrfs': {
      const fstab = `${HEAD}UUID=${DEBIAN_UUIDS.root} /               btrfs   defaults,subvol=@rootfs 0       0\nUUID=${DEBIAN_UUIDS.root} /home           btrfs   defaults,subvol=@home 0       0\n`;
      return { disks: [hostFsRoot('trixie-btrfs', 'btrfs', fstab, ['@rootfs', '@home'])], append: `${ROOT} rootflags=subvol=@rootfs`, fsType: 'btrfs', home: 'subvolume' };
    }
    case 'xfs':
      return { disks: [hostFsRoot('trixie-xfs', 'xfs', `${HEAD}UUID=${DEBIAN_UUIDS.root} /               xfs     defaults        0       0\n`)], append: ROOT, fsType: 'xfs', home: null };
  }
}

const byLayout = new Map<DebianLayout, LayoutDisks>();

/** The disks of a layout, made on first use in this process. */
export function layoutDisks(layout: DebianLayout): LayoutDisks {
  let disks = byLayout.get(layout);
  if (!disks) {
    disks = make(layout);
    byLayout.set(layout, disks);
  }
  return disks;
}
