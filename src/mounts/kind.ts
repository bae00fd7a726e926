import type { Config } from '../config';
import type { Context, RootFound } from '../context';
import type { FstabEntry } from '../fstab/fstab';
import type { KeptForm } from '../persist/open';

/**
 * What the root stage leaves for the union: the root mounted read-only on
 * RO_DIR, or its device (set read-only, or writable where the user asked).
 */
type RootUse = 'read-only folder' | 'read-only device' | 'writable device';

/** One overlay= kind: everything the stages, the builder and plan mode need to know of it. */
export interface UnionKind {
  /** Loaded in the background while the root is looked for. */
  readonly modules: readonly string[];
  /** Loaded later, where they are used, with parameters (brd and its size); the image must carry them too. */
  readonly onDemand: readonly string[];
  rootUse(config: Config): RootUse;
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
  /** What the new init's environment gains. */
  readonly initEnv: Readonly<Record<string, string>>;
}
