// What install, uninstall and status need to know about the system, as plain
// data: read once by host.ts, judged by the pure functions of checks.ts and
// status.ts, so that each error has a unit test.

import type { OverlayKind } from '../../src/mounts';

/** The filesystem mounted at /. */
export type RootFacts =
  /** Booted by cowboot: its union is the root (LOG_FILE exists). */
  | { readonly kind: 'frozen'; readonly union: 'unionfs' | 'overlayfs' | 'dm' | 'none' }
  | { readonly kind: 'block'; readonly device: string; readonly fsType: string; readonly uuid: string | null; readonly assembled: 'dm' | 'md' | null }
  /** Not on a block device: tmpfs, NFS, a container's overlay. */
  | { readonly kind: 'other'; readonly fsType: string; readonly source: string };

export interface GrubFacts {
  /** What regenerates grub.cfg: update-grub, or grub-mkconfig -o … where there is no update-grub. */
  readonly update: readonly string[];
  /** GRUB_DEFAULT in /etc/default/grub (and its .d files), "0" where unset. */
  readonly defaultEntry: string;
}

export interface HostFacts {
  readonly uid: number;
  readonly hasBoot: boolean;
  /** Versions with both /boot/vmlinuz-VER and /lib/modules/VER/modules.dep. */
  readonly kernels: readonly string[];
  readonly root: RootFacts;
  /** null: no GRUB (no /etc/grub.d, or nothing that regenerates grub.cfg). */
  readonly grub: GrubFacts | null;
  /** Debian packages the builder needs that are not installed. */
  readonly missingPackages: readonly string[];
  /** The overlay= kinds the images built here carry (unionfs only with unionfs-fuse). */
  readonly unions: readonly OverlayKind[];
}
