// The overlay= kinds, one row each. Stages, the builder and plan mode read
// this table; a kind is one file and one row, for each name of
// config/union-names.ts, and a stage that needs a kind's row finds it here.

import type { UnionName } from '../config/union-names';
import { dm } from './dm-snapshot';
import type { UnionKind } from './kind';
import { none } from './none';
import { overlayfs } from './overlayfs';
import { unionfs } from './unionfs';

export const UNION_KINDS = { unionfs, dm, overlayfs, none } as const satisfies Readonly<Record<UnionName, UnionKind>>;

/** Every module any kind may load: the image carries them all. */
export const UNION_MODULES: readonly string[] = [...new Set(Object.values(UNION_KINDS).flatMap((k) => [...k.modules, ...k.onDemand]))];
