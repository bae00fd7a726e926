// What each kernel parameter means, and its nearest equivalent in the tools
// our users come from, for man/cowboot.7 and man/cowboot.json.5. The names,
// aliases and defaults are not repeated here: the pages take them from the
// settings rows (src/config/settings.ts), and the compiler asks for one
// entry per row. Text in `backquotes` is set in bold.

import type { Key } from '../../src/config/settings';

/** The nearest parameter in each peer; a peer left out has none. */
export interface Peers {
  readonly dracut?: string;
  readonly liveBoot?: string;
  readonly casper?: string;
  readonly archiso?: string;
  readonly booster?: string;
}

export interface ParameterDoc {
  /** What follows the name on the command line: '=TYPE', '[=STAGE,…]', or nothing for a flag. */
  readonly value: string;
  readonly meaning: string;
  /** What a setting whose default is unset does then. */
  readonly unset?: string;
  readonly peers: Peers;
}

export const PARAMETER_DOCS = {
  root: {
    value: '=…', meaning: 'the root device, or with `loop=` the medium: `/dev/sda2`, `LABEL=`, `UUID=`, `PARTUUID=`, `PARTLABEL=`, `/dev/disk/by-*/…`; `live:URL`, an image to fetch (as `fetch=`); `nbd:HOST:PORT[:EXPORT]`, an NBD server\'s export read block by block (image built with `--volumes nbd`); `nfs:SERVER:/PATH[:OPTIONS]` (or `nfs4:`), an NFSv4 export mounted read-only; `/dev/nfs`, the export `nfsroot=` names', unset: 'required',
    peers: { dracut: '`root=` (same forms); `root=live:CDLABEL=…` for a live medium; `root=nbd:HOST:PORT/EXPORT`; `root=nfs:…`, `root=nfs4:…`', liveBoot: '`live-media=`', casper: '`live-media=` (or a scan for `/casper`)', archiso: '`archisolabel=`, `archisodevice=`', booster: '`root=` (same forms)' },
  },
  rootfstype: {
    value: '=TYPE', meaning: 'its filesystem', unset: 'read from the superblock',
    peers: { dracut: '`rootfstype=`', booster: '`rootfstype=`' },
  },
  rootflags: {
    value: '=OPTS', meaning: 'extra mount options; `ro` is always added', unset: 'none',
    peers: { dracut: '`rootflags=`', booster: '`rootflags=`' },
  },
  rootwait: {
    value: '', meaning: 'wait for the root for ever',
    peers: { dracut: '`rd.retry=`, `rd.timeout=`', liveBoot: '`live-media-timeout=`' },
  },
  rootdelay: {
    value: '=N', meaning: 'seconds to wait for the root, then give up',
    peers: { dracut: '`rd.timeout=`', liveBoot: '`live-media-timeout=`', casper: '`rootdelay=` (a sleep first)', archiso: '`rootdelay=`' },
  },
  overlay: {
    value: '=KIND', meaning: 'the union that makes the root writable; an image built without unionfs-fuse has `overlayfs` as its default instead',
    peers: { dracut: '`rd.live.overlay.overlayfs` (else a dm snapshot)', liveBoot: '`union=overlay|aufs`', casper: '— (overlayfs)', archiso: '— (overlayfs, or a dm snapshot for `airootfs.img`)' },
  },
  loop: {
    value: '=/PATH', meaning: 'the image file on the medium', unset: 'none',
    peers: { dracut: '`rd.live.dir=` + `rd.live.squashimg=`', liveBoot: '`live-media-path=` (and `findiso=`)', casper: '`live-media-path=` (a folder)', archiso: '`archisobasedir=` (a folder)' },
  },
  loopfstype: {
    value: '=TYPE', meaning: 'the image\'s filesystem', unset: 'read from its superblock',
    peers: {  },
  },
  findiso: {
    value: '=/PATH', meaning: 'an ISO kept as a file, on the `root=` device or on the first device that holds it; it is then the medium', unset: 'none',
    peers: { dracut: '`iso-scan/filename=`', liveBoot: '`findiso=`', casper: '`iso-scan/filename=`', archiso: '`img_dev=` + `img_loop=`' },
  },
  toram: {
    value: '', meaning: 'copy the image into RAM, let the medium go',
    peers: { dracut: '`rd.live.ram`', liveBoot: '`toram`', casper: '`toram` (the whole medium)', archiso: '`copytoram`' },
  },
  nfsroot: {
    value: '=SERVER:/PATH[,OPTIONS]', meaning: 'with `root=/dev/nfs` (or no `root=`): the NFSv4 export that is the root, mounted read-only with the kernel\'s NFS options (`port=`, `vers=4.1`…); the server is named, not taken from DHCP', unset: 'none',
    peers: { dracut: '`nfsroot=` (same form)', liveBoot: '`nfsroot=` (`netboot=nfs`)', casper: '`nfsroot=` (`netboot=nfs`)', archiso: '`archiso_nfs_srv=`' },
  },
  fetch: {
    value: '=URL', meaning: 'download this squashfs image (http:// or https://) into RAM over the network and boot it; `root=live:URL` says the same', unset: 'none',
    peers: { dracut: '`root=live:http://…` (livenet)', liveBoot: '`fetch=`', casper: '`url=` (an ISO)', archiso: '`archiso_http_srv=`' },
  },
  liveSha256: {
    value: '=HEX', meaning: 'the SHA-256 the fetched image must have; without it, its line in the `SHA256SUMS` beside the image on the server (no such file: booted unchecked, with a warning)', unset: 'none',
    peers: {},
  },
  livePubkey: {
    value: '=NAME', meaning: 'the key (packed with `cowboot build --add-key NAME.pem`) whose Ed25519 signature `SHA256SUMS.sig` must verify the server\'s `SHA256SUMS` with; an image that packs keys boots only signed sums, and without this parameter any of its keys may have signed them', unset: 'every packed key; none packed: no signature asked',
    peers: {},
  },
  liveInsecure: {
    value: '', meaning: 'fetch over `https://` without checking the server\'s certificate; a warning says so at every boot',
    peers: {},
  },
  ip: {
    value: '=…', meaning: 'the network for a fetch: `dhcp`, `off`, `INTERFACE:dhcp`, or `CLIENT::GATEWAY:NETMASK:HOSTNAME:INTERFACE:none[:DNS0[:DNS1]]` (IPv4)', unset: 'DHCP on the first wired interface',
    peers: { dracut: '`ip=`', liveBoot: '`ip=` (the kernel\'s form)', casper: '`ip=`', archiso: '`ip=`' },
  },
  dhcpTimeout: {
    value: '=N', meaning: 'seconds to wait for a DHCP answer, then give up',
    peers: { dracut: '`rd.net.timeout.dhcp=`' },
  },
  roothash: {
    value: '=HEX', meaning: 'the root, or the `loop=` image, under dm-verity with this root hash', unset: 'none',
    peers: { dracut: '`roothash=` (systemd)' },
  },
  verityHash: {
    value: '=DEV', meaning: 'the device that holds the hash tree, named as `root=` names one', unset: 'for `loop=`: `IMAGE.verity` beside the image',
    peers: { dracut: 'same (systemd)' },
  },
  verityOptions: {
    value: '=a,b', meaning: 'dm-verity options: `ignore-corruption`, `restart-on-corruption`, `panic-on-corruption`, `ignore-zero-blocks`, `check-at-most-once`',
    peers: { dracut: 'same (systemd)' },
  },
  verify: {
    value: '', meaning: 'with `loop=`: check every file the medium\'s `sha256sum.txt` lists before using it',
    peers: { dracut: '`rd.live.check` (the ISO\'s implanted MD5)', liveBoot: '`verify-checksums`', casper: '— (`md5sum.txt`, checked after boot)', archiso: '`checksum` (`airootfs.sha512`)' },
  },
  cowsize: {
    value: '=SIZE', meaning: 'size of the COW space: `512M`, `2G`, `25%`; the console and the kernel\'s log are warned at 80%, 95% and 100% of it', unset: '50%',
    peers: { dracut: '`rd.live.overlay.size=` (MiB)', liveBoot: '`overlay-size=`', archiso: '`cow_spacesize=`' },
  },
  cow: {
    value: '=tmpfs|ram', meaning: 'dm only: the COW device',
    peers: { dracut: '— (a sparse file)', archiso: '— (`cow_device=`)' },
  },
  persist: {
    value: '=SPEC[:/FILE]', meaning: 'keep the changes on this device, or in this image file on it', unset: 'none: RAM',
    peers: { dracut: '`rd.live.overlay=DEV:PATH`', liveBoot: '`persistence` (a partition labelled `persistence` with `persistence.conf`)', casper: '`persistent` (a `casper-rw` partition or file)', archiso: '`cow_label=`, `cow_device=` + `cow_directory=`' },
  },
  persistReset: {
    value: '', meaning: 'start the kept layer over, empty',
    peers: { dracut: '`rd.live.overlay.reset`' },
  },
  persistAdopt: {
    value: '', meaning: 'use a layer made over another root, and record it as this root\'s',
    peers: { dracut: '— (never checked)', liveBoot: '— (never checked)', casper: '— (never checked)', archiso: '— (never checked)' },
  },
  cowchunk: {
    value: '=N', meaning: 'dm only: chunk in sectors',
    peers: { archiso: '`cow_chunksize=`' },
  },
  rw: {
    value: '', meaning: '`overlay=none` only: mount the root read-write',
    peers: { dracut: '`rw`', booster: '`rw`' },
  },
  mounts: {
    value: '=cow|ro|fstab', meaning: 'the other local filesystems of the root\'s fstab: a RAM overlay each, read-only, or as the fstab says',
    peers: {  },
  },
  luks: {
    value: '=0', meaning: 'open LUKS containers (read-only, the passphrase asked on the console, 3 tries); `rd.luks=0` opens none',
    peers: { dracut: '`rd.luks=0`', booster: '— (always)' },
  },
  luksUuids: {
    value: '=UUID', meaning: 'open only these LUKS containers (none given: every one found); may be given more than once',
    peers: { dracut: '`rd.luks.uuid=` (same forms)', booster: '`rd.luks.uuid=`' },
  },
  luksNames: {
    value: '=UUID=NAME', meaning: 'open this LUKS container (as `rd.luks.uuid=` does) as /dev/mapper/NAME, not luks-UUID; may be given more than once',
    peers: { dracut: '`rd.luks.name=` (systemd\'s form)' },
  },
  luksKey: {
    value: '=PATH[:DEVICE]', meaning: 'a key file in the image (`cowboot build --add-file`), or on DEVICE (`LABEL=`, `UUID=`…, a stick mounted read-only only while a container opens), tried on each container before the passphrase is asked', unset: 'the passphrase only',
    peers: { dracut: '`rd.luks.key=` (same forms)', booster: '— (`/etc/crypttab` key files)' },
  },
  md: {
    value: '=0', meaning: 'assemble md RAID arrays, read-only (a degraded one too, after 5 s, with a warning); `rd.md=0` assembles none',
    peers: { dracut: '`rd.md=0`' },
  },
  mdUuids: {
    value: '=UUID', meaning: 'assemble only these arrays (none given: every one found); may be given more than once',
    peers: { dracut: '`rd.md.uuid=`' },
  },
  lvm: {
    value: '=0', meaning: 'activate LVM volumes (read-only); `rd.lvm=0` activates none',
    peers: { dracut: '`rd.lvm=0`', booster: '— (always)' },
  },
  lvmVgs: {
    value: '=VG', meaning: 'activate only these volume groups (with `rd.lvm.lv=`, those volumes too; neither given: every volume found); may be given more than once',
    peers: { dracut: '`rd.lvm.vg=`' },
  },
  lvmLvs: {
    value: '=VG/LV', meaning: 'activate only these logical volumes; may be given more than once',
    peers: { dracut: '`rd.lvm.lv=`' },
  },
  swap: {
    value: '', meaning: 'let the booted system use the swap partitions of its fstab',
    peers: { liveBoot: '`swap`', casper: '— (always on)' },
  },
  modules: {
    value: '=a,b', meaning: 'more modules to load',
    peers: { dracut: '`rd.driver.pre=`', archiso: '`earlymodules=`', booster: '— (build-time `modules:`)' },
  },
  blacklist: {
    value: '=a,b', meaning: 'modules never to load',
    peers: { dracut: '`rd.driver.blacklist=`, `modprobe.blacklist=`', casper: '`blacklist=`', booster: '`modprobe.blacklist=`' },
  },
  jobs: {
    value: '=N', meaning: 'modules loading at once; 1 = one at a time',
    peers: { booster: '`booster.disable_concurrent_module_loading`' },
  },
  init: {
    value: '=PATH', meaning: 'the new init',
    peers: { dracut: '`init=`', liveBoot: '`init=`', casper: '`init=`', archiso: '`init=`', booster: '`init=`' },
  },
  quiet: {
    value: '', meaning: 'console shows only warnings and errors',
    peers: { dracut: '`quiet`, `rd.info`', liveBoot: '`quiet`', casper: '`quiet`', archiso: '`quiet`', booster: '`quiet`' },
  },
  debug: {
    value: '', meaning: 'every command on the console too',
    peers: { dracut: '`rd.debug`', liveBoot: '`debug`', casper: '`debug`', archiso: '`rd.debug`', booster: '`booster.debug`' },
  },
  shell: {
    value: '[=0]', meaning: 'rescue shell on failure, or none',
    peers: { dracut: '`rd.shell`, `rd.shell=0`', casper: '— (`panic=`)' },
  },
  emergency: {
    value: '=reboot|poweroff|halt', meaning: 'without a shell, after a failure',
    peers: { dracut: '`rd.emergency=`' },
  },
  panic: {
    value: '=N', meaning: 'seconds before `rd.emergency` acts; 0 waits for ever', unset: '5',
    peers: { dracut: '(kernel\'s)', liveBoot: '(kernel\'s)', casper: '(kernel\'s)', archiso: '(kernel\'s)', booster: '(kernel\'s)' },
  },
  breakAt: {
    value: '[=STAGE,…]', meaning: 'a shell before these stages',
    peers: { dracut: '`rd.break[=hook]`', liveBoot: '`break=`', casper: '`break=`', archiso: '`break=`' },
  },
  rescuePassword: {
    value: '=HASH', meaning: 'the hash of a password the rescue shell asks for, made by `cowboot hash-password < file-with-password`', unset: 'no password',
    peers: {},
  },
} as const satisfies Record<Key, ParameterDoc>;

/** The init's own arguments: not a setting, passed on. */
export const INIT_ARGUMENTS = {
  forms: ['5', '3', 'single'],
  meaning: 'arguments for the new init; `5` when none is given',
  peers: { dracut: 'passed on', liveBoot: 'passed on', casper: 'passed on', archiso: 'passed on', booster: 'passed on' },
} as const;
