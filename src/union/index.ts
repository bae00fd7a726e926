// The overlay= kinds, one row each. Stages, the builder and plan mode read
// this table; a kind is one file and one row: overlay= takes the table's
// keys, in its order, and a stage that needs a kind's row finds it here.

import { dm } from './dm-snapshot';
import type { UnionKind } from './kind';
import { none } from './none';
import { overlayfs } from './overlayfs';
import { unionfs } from './unionfs';

export const UNION_KINDS = { unionfs, dm, overlayfs, none } as const satisfies Readonly<Record<string, UnionKind>>;

export type OverlayKind = keyof typeof UNION_KINDS;
// Object.keys loses the key type; the keys are exactly the table's.
export const OVERLAY_KINDS = Object.keys(UNION_KINDS) as readonly OverlayKind[];

/** Every module any kind may load: the image carries them all. */
export const UNION_MODULES: readonly string[] = [...new Set(Object.values(UNION_KINDS).flatMap((k) => [...k.modules, ...k.onDemand]))];
