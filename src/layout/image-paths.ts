// The contract between the builder and /init: where the builder puts what
// /init reads, runs or mounts on. Both sides import these names, so neither
// can move a file without the other following. Bundled into /init, so no
// node: imports here.

/** The program the kernel runs. */
export const INIT = '/init';
/** The kernel version the image's modules are for: /init refuses to boot another kernel. */
export const KERNEL_STAMP = '/etc/cowboot-kernel';
/** The boot defaults from --config, validated and normalized at build time. */
export const IMAGE_CONFIG = '/etc/cowboot.json';
/** The overlay= kinds the image carries, as a JSON list (union/carried.ts); /init refuses the others. */
export const IMAGE_UNIONS = '/etc/cowboot-unions.json';
export const NEW_ROOT = '/newroot';
/** API filesystems: mount points in the image, moved into the new root in this order. */
export const API_MOUNTS = ['/dev', '/proc', '/sys', '/run'] as const;
/** The PATH of /init's commands: tools run by name (mount, insmod, unionfs, dmsetup) must be in one of these. */
export const TOOL_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'] as const;
export const SWITCH_ROOT = '/sbin/switch_root';
export const SHELL = '/bin/sh';
/** Run by their path, not looked up on PATH: the image must hold each of them. */
export const RUN_BY_PATH = [INIT, SWITCH_ROOT, SHELL] as const;

/** The kernel's modules and their metadata, as depmod lays them out. */
export function modulesDir(kernel: string): string {
  return `/lib/modules/${kernel}`;
}
export const MODULES_DEP = 'modules.dep';
export const MODULES_ALIAS = 'modules.alias';
export const MODULES_BUILTIN = 'modules.builtin';
/** symbol_request()'s aliases, for modprobe: the builder's to write, /init does not read it. */
export const MODULES_SYMBOLS = 'modules.symbols';
/** What the shutdown return copies out of the image (persist=): JSON, { "busybox": path, "dmsetup": [path and its libraries] }. */
export const SHUTDOWN_TOOLS = '/etc/cowboot-shutdown-tools.json';
export interface ShutdownTools {
  readonly busybox: string;
  readonly dmsetup: readonly string[];
}
/** What udhcpc runs at each DHCP event: it prints the lease for /init (src/net/dhcp.ts). */
export const DHCP_SCRIPT = '/lib/cowboot/udhcpc-lease';
/** The certificates an https:// fetch trusts (cowboot build --ca; the build machine's by default). */
export const CA_BUNDLE = '/etc/cowboot/ca-certificates.crt';
/** The Ed25519 public keys a fetched image's SHA256SUMS.sig is checked with (cowboot build --add-key), NAME.pem each. */
export const KEYS_DIR = '/etc/cowboot/keys';
/** The bundle, run by the runtime when /init is the first step's script rather than the bundle itself. */
export const INIT_BUNDLE = '/lib/cowboot/init.js';
/** The runtime's read-only image (--pack-runtime squashfs), in the image's first, uncompressed segment. */
export const RUNTIME_IMAGE = '/lib/cowboot/runtime.squashfs';
/** The pages that start Node, cut from its binary (builder/hot-pages.ts), lz4-packed in the image's first segment; the first step unpacks them into HOT_PAGES. */
export const HOT_PAGES_PACKED = '/lib/cowboot/node.hot.lz4';
export const HOT_PAGES = '/lib/cowboot/node.hot';
/** The LD_AUDIT module that maps HOT_PAGES over Node's binary as it starts (builder/hot/hot-pages.c). */
export const HOT_MODULE = '/lib/cowboot/hot-pages.so';
/** What was changed in the runtime's official binary (cowboot build --icu), as JSON; nothing at boot reads it. */
export const RUNTIME_RECORD = '/etc/cowboot-runtime.json';
/** Where the first step mounts RUNTIME_IMAGE; the handoff lets it go before switch_root. */
export const RUNTIME_DIR = '/usr/lib/cowboot/runtime';

/** The volume tools the builder packs where the build machine has them, with the Debian packages that hold them. */
export const VOLUME_TOOLS = {
  lvm: { path: '/usr/sbin/lvm', debianPackage: 'lvm2' },
  cryptsetup: { path: '/usr/sbin/cryptsetup', debianPackage: 'cryptsetup-bin' },
  mdadm: { path: '/usr/sbin/mdadm', debianPackage: 'mdadm' },
  'nbd-client': { path: '/usr/sbin/nbd-client', debianPackage: 'nbd-client' },
} as const;
