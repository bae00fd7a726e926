// The overlay= kinds, one row each. Stages, the builder and plan mode read
// this table; a kind is one file and one row, and the type over the kinds
// makes a missing row a compile error.

import type { OverlayKind } from '../config';
import { dm } from './dm-snapshot';
import type { UnionKind } from './kind';
import { none } from './none';
import { overlayfs } from './overlayfs';
import { unionfs } from './unionfs';

export const UNION_KINDS: { readonly [K in OverlayKind]: UnionKind } = { unionfs, dm, overlayfs, none };

/** Every module any kind may load: the image carries them all. */
export const UNION_MODULES: readonly string[] = [...new Set(Object.values(UNION_KINDS).flatMap((k) => [...k.modules, ...k.onDemand]))];
