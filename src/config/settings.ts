// Every setting, one row each. The rows' order is the order in which values
// are validated and in which the known keys are listed; Config and
// DEFAULT_CONFIG are derived from the rows.

import { UNION_NAMES } from './union-names';
import { showSize } from '../formats/size';
import { BREAK_STAGES } from './stage-names';
import { boolean, type JsonForm, list, number, text, textOrNull } from './json-forms';
import { anyText, breakStages, flag, imageUrl, integer, ipParam, nfsrootParam, rootParam, luksKey, luksNameList, luksUuidList, mdUuidList, lvmNameList, matching, moduleList, oneOf, type Parse, persistSpec, powerOfTwo, rootSpec, size, verityOptionList } from './parsers';

const COW_DEVICES = ['tmpfs', 'ram'] as const;

/** What happens to the other local filesystems of the root's fstab (mounts=). */
const MOUNT_POLICIES = ['cow', 'ro', 'fstab'] as const;

const EMERGENCY_ACTIONS = ['reboot', 'poweroff', 'halt'] as const;
export type EmergencyAction = (typeof EMERGENCY_ACTIONS)[number];

interface Row<V> {
  /** The name on the command line and in the config file. */
  readonly param: string;
  /** What a valid value looks like, for the message about an invalid one. */
  readonly expected: string;
  readonly parse: Parse<V>;
  readonly json: JsonForm;
  /** The text a parameter given without a value stands for (quiet is quiet=1); without it, a value is needed. */
  readonly bare?: string;
  /** The text written back into the normalized config file, where the value is not that text itself. */
  readonly toText?: (value: NonNullable<V>) => string;
  /** What must not be set from the boot loader. */
  readonly fileOnly?: true;
  /** Other tools' names for it, also taken from the command line; the last one given wins. */
  readonly aliases?: readonly string[];
  /** A list that may be given more than once on the command line (as dracut's rd.luks.uuid=): every value counts, not the last. */
  readonly repeats?: true;
}

export interface Setting<T> extends Row<T> {
  readonly default: T;
}

// The parser gives a setting its type; the default must be one of its values,
// or null for a setting that is unset until given. `const` keeps a default
// such as 'unionfs' from widening to string, which would let null in.
const setting = <V, const D extends V | null>(row: Row<V> & { readonly default: D }) => row;

const FLAG = { expected: 'no value, or 0 or 1', parse: flag, json: boolean, bare: '1' };
const FSTYPE = { expected: 'a filesystem type such as ext4, squashfs or iso9660', parse: matching(/^[a-z0-9_.]+$/), json: textOrNull };
const MODULES = { expected: 'module names separated by commas, such as virtio_blk,ext4', parse: moduleList, json: list('a list of module names, such as ["virtio_blk", "ext4"]') };

function choice<T extends string>(values: readonly T[]) {
  return { expected: `one of ${values.join(', ')}`, parse: oneOf(values), json: text };
}

const SETTINGS = {
  /** root=: a /dev path, LABEL=, UUID=, PARTUUID=, PARTLABEL= or a /dev/disk/by-* link. */
  root: setting({ param: 'root', default: null, expected: 'a device path such as /dev/sda2, or LABEL=, UUID=, PARTUUID=, PARTLABEL=, live:http://HOST/PATH of an image to fetch, nbd:HOST:PORT[:EXPORT] of an NBD server, or nfs:SERVER:/PATH[:OPTIONS] (nfs4: too; /dev/nfs with nfsroot=) of an NFSv4 export', parse: rootParam, json: textOrNull }),
  /** Wait for the root device for ever. */
  rootwait: setting({ param: 'rootwait', default: false, ...FLAG }),
  rootfstype: setting({ param: 'rootfstype', default: null, ...FSTYPE }),
  rootflags: setting({ param: 'rootflags', default: null, expected: 'mount options such as noatime', parse: anyText, json: textOrNull }),
  overlay: setting({ param: 'overlay', default: 'unionfs', ...choice(UNION_NAMES) }),
  /** An image file on the root= medium that holds the root, e.g. /live/filesystem.squashfs. */
  loop: setting({ param: 'loop', default: null, expected: 'an absolute path on the medium, such as /live/filesystem.squashfs', parse: matching(/^\/./), json: textOrNull }),
  loopfstype: setting({ param: 'loopfstype', default: null, ...FSTYPE }),
  /** An ISO kept as a file (GRUB's loopback, Ventoy): on the root= device, or on the first that holds it. */
  findiso: setting({
    param: 'findiso',
    aliases: ['iso-scan/filename'],
    default: null,
    expected: 'an absolute path to an ISO file, such as /isos/live.iso',
    parse: matching(/^\/./),
    json: textOrNull,
  }),
  /** The root (or loop= image) under dm-verity, checked against this root hash (systemd's name). */
  roothash: setting({ param: 'roothash', default: null, expected: 'a root hash in hex, as cowboot verity or veritysetup format prints it', parse: matching(/^[0-9a-fA-F]{64}$/), json: textOrNull }),
  /** The device that holds the hash tree; for a loop= image, IMAGE.verity beside it when not given. */
  verityHash: setting({ param: 'systemd.verity_root_hash', default: null, expected: 'a device, as root= names one: /dev/sdb2, LABEL=, UUID=…', parse: rootSpec, json: textOrNull }),
  /** dm-verity's options, as systemd takes them: panic-on-corruption, restart-on-corruption, ignore-corruption, ignore-zero-blocks… */
  verityOptions: setting({ param: 'systemd.verity_root_options', default: [], expected: 'options separated by commas, such as ignore-zero-blocks,panic-on-corruption', parse: verityOptionList, json: list('a list of options, such as ["ignore-zero-blocks"]') }),
  /** Check every file the medium's sha256sum.txt lists before using it. */
  verify: setting({ param: 'verify', default: false, ...FLAG }),
  /** Copy the loop= image into RAM and release the medium. */
  toram: setting({ param: 'toram', default: false, ...FLAG }),
  /** overlay=dm: where the snapshot's changes go. */
  cow: setting({ param: 'cow', default: 'tmpfs', ...choice(COW_DEVICES) }),
  /** The size of the copy-on-write space; null: half of RAM. */
  cowsize: setting({ param: 'cowsize', default: null, expected: 'a size such as 512M, 2G or 25% (of RAM)', parse: size, json: textOrNull, toText: showSize }),
  /** Keep the changes on this device, or in this image file on it, instead of RAM (dracut's rd.live.overlay=). */
  persist: setting({
    param: 'persist',
    aliases: ['rd.live.overlay'],
    default: null,
    expected: 'a device as root= names one, optionally with the path of an image file on it: LABEL=persist, /dev/sdb2, UUID=…:/persist.img',
    parse: persistSpec,
    json: textOrNull,
  }),
  /** Start the kept layer over, empty (dracut's rd.live.overlay.reset). */
  persistReset: setting({ param: 'persist.reset', aliases: ['rd.live.overlay.reset', 'rd.overlay.reset'], default: false, ...FLAG }),
  /** Use a kept layer made over another root (or by another overlay=), and record it as this root's. */
  persistAdopt: setting({ param: 'persist.adopt', default: false, ...FLAG }),
  /** overlay=dm: snapshot chunk size in 512-byte sectors. */
  cowchunk: setting({ param: 'cowchunk', default: 8, expected: 'a power of two from 1 to 2048 (sectors of 512 bytes), such as 8', parse: powerOfTwo(2048), json: number }),
  /** overlay=none: mount the root read-write (the kernel's rw). */
  rw: setting({ param: 'rw', default: false, ...FLAG }),
  /** The fstab's other local filesystems: a RAM overlay each (cow), read-only (ro), or as the fstab says (fstab). */
  mounts: setting({ param: 'mounts', default: 'cow', ...choice(MOUNT_POLICIES) }),
  /** Let the booted system use the swap of the root's fstab (overlayroot's swap=1). */
  /** LUKS containers to open (all, when none is named); 0: none. */
  luks: setting({ param: 'rd.luks', default: true, ...FLAG }),
  luksUuids: setting({
    param: 'rd.luks.uuid',
    default: [],
    expected: 'LUKS UUIDs (as blkid shows them, "luks-" in front or not), separated by commas or each in its own rd.luks.uuid=',
    parse: luksUuidList,
    json: list('a list of UUIDs, such as ["6a1f…"]'),
    repeats: true,
  }),
  /** systemd's UUID=NAME: open this container (as rd.luks.uuid= does) under this /dev/mapper name. */
  luksNames: setting({
    param: 'rd.luks.name',
    default: [],
    expected: 'UUID=NAME (the LUKS UUID, then the /dev/mapper name), each in its own rd.luks.name=',
    parse: luksNameList,
    json: list('a list of UUID=NAME, such as ["6a1f…=cryptroot"]'),
    repeats: true,
  }),
  /** A key file in the image, tried before the passphrase is asked. */
  luksKey: setting({
    param: 'rd.luks.key',
    default: null,
    expected: 'the absolute path of a key file in the image (cowboot build --add-file), such as /etc/keys/root.key, or PATH:DEVICE for one on a device, such as /root.key:LABEL=KEYS',
    parse: luksKey,
    json: textOrNull,
  }),
  /** md RAID arrays to assemble, read-only (all, when none is named); 0: none. */
  md: setting({ param: 'rd.md', default: true, ...FLAG }),
  mdUuids: setting({ param: 'rd.md.uuid', default: [], expected: 'md array UUIDs (as mdadm --detail or blkid shows them), separated by commas or each in its own rd.md.uuid=', parse: mdUuidList, json: list('a list of UUIDs, such as ["1a2b3c4d:…"]'), repeats: true }),
  /** LVM volumes to activate (all, when none is named); 0: none. */
  lvm: setting({ param: 'rd.lvm', default: true, ...FLAG }),
  lvmVgs: setting({ param: 'rd.lvm.vg', default: [], expected: 'volume group names, separated by commas or each in its own rd.lvm.vg=', parse: lvmNameList(false), json: list('a list of volume group names, such as ["vg0"]'), repeats: true }),
  lvmLvs: setting({ param: 'rd.lvm.lv', default: [], expected: 'logical volumes as VG/LV, separated by commas or each in its own rd.lvm.lv=', parse: lvmNameList(true), json: list('a list of VG/LV names, such as ["vg0/root"]'), repeats: true }),
  swap: setting({ param: 'swap', default: false, ...FLAG }),
  /** Extra modules to load. */
  modules: setting({ param: 'modules', default: [], ...MODULES }),
  /** Modules never to load. */
  blacklist: setting({ param: 'modprobe.blacklist', default: [], ...MODULES }),
  /** How many modules load at once; 1 loads them one at a time. */
  jobs: setting({ param: 'rd.driver.jobs', default: 8, expected: 'a whole number from 1 to 64, such as 8', parse: integer(1, 64), json: number }),
  /** The init to start in the new root. */
  init: setting({ param: 'init', default: '/sbin/init', expected: 'an absolute path such as /sbin/init', parse: matching(/^\//), json: text }),
  /** Seconds to wait for the root device. */
  /** An image to download into RAM and boot (live-boot's fetch=; dracut's root=live:URL says the same). */
  fetch: setting({ param: 'fetch', default: null, expected: 'an http:// or https:// URL of a squashfs image, such as http://server/live/filesystem.squashfs', parse: imageUrl, json: textOrNull }),
  /** root=/dev/nfs (or no root=): the NFS export that is the root, in the kernel's syntax. */
  nfsroot: setting({ param: 'nfsroot', default: null, expected: 'SERVER:/PATH[,OPTIONS] of an NFSv4 export, such as 10.0.0.1:/srv/fleet,port=2049', parse: nfsrootParam, json: textOrNull }),
  /** The fetched image's SHA-256; without it, the SHA256SUMS beside the image on the server is used. */
  liveSha256: setting({ param: 'rd.live.sha256', default: null, expected: 'a SHA-256 in hex (64 digits), as sha256sum prints it', parse: matching(/^[0-9a-fA-F]{64}$/), json: textOrNull }),
  /** The key (cowboot build --add-key NAME.pem) the fetched image's SHA256SUMS.sig must verify with; every packed key is tried when not given. */
  livePubkey: setting({ param: 'rd.live.pubkey', default: null, expected: 'the name of a key packed with cowboot build --add-key (its file name without .pem), such as fleet', parse: matching(/^[A-Za-z0-9][A-Za-z0-9._-]*$/), json: textOrNull }),
  /** https:// fetches: do not check the server's certificate (a warning at every boot). */
  liveInsecure: setting({ param: 'rd.live.insecure', default: false, ...FLAG }),
  /** The network for a fetch, in the kernel's and dracut's syntax; DHCP on the first wired interface when not given. */
  ip: setting({
    param: 'ip',
    default: null,
    expected: 'dhcp, off, INTERFACE:dhcp, or CLIENT::GATEWAY:NETMASK:HOSTNAME:INTERFACE:none[:DNS0[:DNS1]] (IPv4)',
    parse: ipParam,
    json: textOrNull,
  }),
  /** How long DHCP is waited for (dracut's name). */
  dhcpTimeout: setting({ param: 'rd.net.timeout.dhcp', default: 30, expected: 'a whole number of seconds, from 1, such as 30', parse: integer(1), json: number }),
  rootdelay: setting({ param: 'rootdelay', default: 30, expected: 'a whole number of seconds, such as 30', parse: integer(0), json: number }),
  quiet: setting({ param: 'quiet', default: false, ...FLAG }),
  /** A rescue shell on failure; without it, rd.emergency. */
  shell: setting({ param: 'rd.shell', default: true, ...FLAG }),
  /** What to do after a failure when there is no shell. */
  emergency: setting({ param: 'rd.emergency', default: 'reboot', ...choice(EMERGENCY_ACTIONS) }),
  /** Stages to stop before, with a shell. */
  breakAt: setting({
    param: 'rd.break',
    default: [],
    expected: `no value (before handoff), or stage names separated by commas: ${BREAK_STAGES.join(', ')}`,
    parse: breakStages,
    json: text,
    bare: '',
    toText: (stages) => stages.join(','),
  }),
  /** Every command on the console too. */
  debug: setting({ param: 'rd.debug', default: false, ...FLAG }),
  /** The kernel's panic=: seconds before rd.emergency acts; 0 waits for ever. */
  panic: setting({ param: 'panic', default: null, expected: 'a whole number of seconds, such as 10 (0 waits for ever, below 0 acts at once)', parse: integer(-999999), json: number }),
  /** A scrypt hash (cowboot hash-password); the rescue shell asks for it. */
  rescuePassword: setting({
    param: 'rd.rescue-password',
    default: null,
    expected: 'a hash made by "cowboot hash-password" (scrypt:N:r:p:salt:hash)',
    parse: matching(/^scrypt:\d+:\d+:\d+:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/),
    json: textOrNull,
    fileOnly: true,
  }),
};

type Rows = typeof SETTINGS;
export type Config = { readonly [K in keyof Rows]: Exclude<ReturnType<Rows[K]['parse']>, undefined> | Extract<Rows[K]['default'], null> };
export type Key = keyof Config;

/** The rows typed by their keys, so that code generic in the key keeps a row and its value together. */
export const ROWS: { readonly [K in Key]: Setting<Config[K]> } = SETTINGS;

// Object.keys and Object.fromEntries are typed for objects that may hold
// more keys than their type names; SETTINGS is a literal, holding exactly these.
/** In row order. */
export const KEYS = Object.keys(SETTINGS) as Key[];
export const DEFAULT_CONFIG = Object.fromEntries(KEYS.map((key) => [key, ROWS[key].default])) as Config;
