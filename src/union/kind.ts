import type { Config } from '../config';
import type { Context } from '../core/context';
import type { RootFound } from '../storage/find-device';
import type { FstabEntry } from '../formats/fstab';

/** How a union kind keeps its changes under persist=: folders (upper/ and work/) on a filesystem, or a snapshot's store on a device. */
export type KeptForm = 'folders' | 'store';

/**
 * What the root stage leaves for the union: the root mounted read-only on
 * RO_DIR, or its device (set read-only, or writable where the user asked).
 */
type RootUse = 'read-only folder' | 'read-only device' | 'writable device';

/**
 * A program of the build machine's that a kind runs from the image, and
 * that not every release packages: an image built without it carries no
 * such kind, and /init refuses it by name.
 */
export interface KindProgram {
  /** Where the image holds it, and the build machine has it. */
  readonly path: string;
  readonly debianPackage: string;
  /** Why a build machine may lack it, for the messages. */
  readonly unpackaged: string;
}

/** One overlay= kind: everything the stages, the builder and plan mode need to know of it. */
export interface UnionKind {
  /** Loaded in the background while the root is looked for. */
  readonly modules: readonly string[];
  /** Loaded later, where they are used, with parameters (brd and its size); the image must carry them too. */
  readonly onDemand: readonly string[];
  rootUse(config: Config): RootUse;
  /** The program the kind runs that the image may be built without; null: every image carries what the kind needs. */
  readonly program: KindProgram | null;
  /** Filesystems this kind cannot make writable; the root stage stops on them with this reason. */
  readonly refuses: { readonly formats: readonly string[]; readonly why: string; readonly hint: string } | null;
  /** How persist= keeps this kind's changes; null: it makes none. */
  readonly persists: KeptForm | null;
  /** Makes the COW space in RAM; returns the device that takes the changes, where the kind needs one. */
  makeCow(ctx: Context): Promise<string | null>;
  /** Mounts the new root on NEW_ROOT. */
  mount(ctx: Context, root: RootFound, cowDevice: string | null): Promise<void>;
  /**
   * The root's line in the fstab inside the union, in place of `entry`, the
   * medium's; null where the new root cannot be written (the fstab stays as
   * it is, and what it names is only set read-only).
   */
  readonly fstabRoot: ((root: RootFound, entry: FstabEntry) => string) | null;
  /**
   * The writable node of the root's filesystem, where the union has one: the
   * fstab's other mounts of that same filesystem (btrfs subvolumes) are
   * mounted from it, as the root's device is held by the union. null: they
   * are mounted read-only from the root's device, like any other.
   */
  readonly sharedDevice: string | null;
  /**
   * Where the kind's changes fill RAM, for the fill warnings and cowboot
   * status: files on the COW tmpfs, or blocks on the snapshot's COW device;
   * and what the system meets once it is full. null: it keeps no changes.
   */
  readonly ramLayer: { readonly holds: 'cow tmpfs' | 'snapshot'; readonly whenFull: string } | null;
  /** What the new init's environment gains. */
  readonly initEnv: Readonly<Record<string, string>>;
}
