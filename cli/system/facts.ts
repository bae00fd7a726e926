// What install, uninstall and status need to know about the system, as plain
// data: read once by host.ts, judged by the pure functions of checks.ts and
// status.ts, so that each error has a unit test.

import type { UnionName } from '../../src/config/union-names';
import type { Layer } from '../../builder/volume-stack';

/** The filesystem mounted at /. */
export type RootFacts =
  /** Booted by cowboot: its union is the root (LOG_FILE exists); `medium`: what the read-only root is on, where it can be told. */
  | { readonly kind: 'frozen'; readonly union: 'unionfs' | 'overlayfs' | 'dm' | 'none'; readonly medium: readonly Layer[] }
  | {
      readonly kind: 'block';
      readonly device: string;
      readonly fsType: string;
      readonly uuid: string | null;
      /** What the device is, top first: itself (a disk, an LV, a LUKS container…), down to its disks. */
      readonly stack: readonly Layer[];
      /** A btrfs root's subvolume (mountinfo's root of the mount), null for the top or another filesystem. */
      readonly subvolume: string | null;
    }
  /** Not on a block device: tmpfs, NFS, a container's overlay. */
  | { readonly kind: 'other'; readonly fsType: string; readonly source: string };

export interface GrubFacts {
  /** What regenerates grub.cfg: update-grub, or grub-mkconfig -o … where there is no update-grub. */
  readonly update: readonly string[];
  /** GRUB_DEFAULT in /etc/default/grub (and its .d files), "0" where unset. */
  readonly defaultEntry: string;
}

export interface LoaderVariables {
  readonly oneShot: string | null;
  readonly default: string | null;
}

/** systemd-boot on the ESP, as bootctl finds it and kernel-install would lay out a kernel's entry. */
export interface SystemdBootFacts {
  /** $BOOT: where loader/entries and the kernels' folders are (the ESP, or XBOOTLDR). */
  readonly bootRoot: string;
  /** kernel-install's entry token: the kernels' folders are $BOOT/TOKEN/VER. */
  readonly token: string;
  /** kernel-install's layout; cowboot writes type 1 entries, for "bls". */
  readonly layout: string;
  /** /etc/kernel/cmdline, the system's own kernel command line for its entries; null where there is none. */
  readonly kernelCmdline: string | null;
  /** loader.conf's default (a glob over entry file names); null where it sets none. */
  readonly loaderDefault: string | null;
  /**
   * The boot loader interface's EFI variables, which win over loader.conf:
   * LoaderEntryDefault (bootctl set-default) and LoaderEntryOneShot (the
   * next boot only: bootctl set-oneshot, systemctl reboot
   * --boot-loader-entry=); null where unset.
   */
  readonly loaderVariables: LoaderVariables;
  /** os-release's ID and PRETTY_NAME, which Debian's entries take as their sort-key and title. */
  readonly osId: string;
  readonly osName: string;
  /** The kernels kernel-install has put on it ($BOOT/TOKEN/VER/linux): the frozen entries boot those. */
  readonly kernelsThere: readonly string[];
}

export type BootLoader = 'grub' | 'systemd-boot';

export interface HostFacts {
  readonly uid: number;
  readonly hasBoot: boolean;
  /** Versions with both /boot/vmlinuz-VER and /lib/modules/VER/modules.dep. */
  readonly kernels: readonly string[];
  readonly root: RootFacts;
  /** null: no GRUB (no /etc/grub.d, or nothing that regenerates grub.cfg). */
  readonly grub: GrubFacts | null;
  /** null: no systemd-boot that bootctl finds installed. */
  readonly systemdBoot: SystemdBootFacts | null;
  /** What the firmware says booted this system (the LoaderInfo EFI variable); null where it cannot tell. */
  readonly bootedBy: BootLoader | null;
  /** Debian packages the builder needs that are not installed. */
  readonly missingPackages: readonly string[];
  /** The LUKS containers open on this system (by UUID): its boot opens them, so the frozen boot does too. */
  readonly luks: readonly string[];
  /** The overlay= kinds the images built here carry (unionfs only with unionfs-fuse). */
  readonly unions: readonly UnionName[];
}

/**
 * The boot loader install adds its entries to: the one that booted this
 * system where the firmware says, else GRUB where it is set up (Debian's
 * default), else systemd-boot.
 */
export function bootLoaderOf(facts: Pick<HostFacts, 'grub' | 'systemdBoot' | 'bootedBy'>): BootLoader | null {
  if (facts.bootedBy === 'systemd-boot' && facts.systemdBoot) return 'systemd-boot';
  if (facts.grub) return 'grub';
  return facts.systemdBoot ? 'systemd-boot' : null;
}

