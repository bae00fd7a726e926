// Which overlay= kinds an image carries: every kind but those whose program
// the build machine lacked (unionfs-fuse, which Debian 13 no longer
// packages). The builder writes the list into the image (IMAGE_UNIONS); the
// config stage, plan mode and install refuse the other kinds, saying why.

import { UNION_NAMES, type UnionName } from '../config/union-names';
import { UNION_KINDS } from '.';

/** The kinds an image built on a machine with these files carries, in the table's order. */
export function carriedKinds(has: (path: string) => boolean): UnionName[] {
  return UNION_NAMES.filter((kind) => {
    const program = UNION_KINDS[kind].program;
    return program === null || has(program.path);
  });
}

/** The image's list, as the builder wrote it; null where it is not a list of known kinds. */
export function parseCarried(text: string): UnionName[] | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(json)) return null;
  const kinds = UNION_NAMES.filter((kind) => json.includes(kind));
  return kinds.length === json.length ? kinds : null;
}

export const carriedText = (kinds: readonly UnionName[]): string => `${JSON.stringify(kinds)}\n`;

/**
 * Why `kind` is not among `carried`, for a message: said of an image
 * already built, or of the machine that would build it. Null where it is.
 */
export function whyNotCarried(kind: UnionName, carried: readonly UnionName[], of: 'image' | 'build machine'): string | null {
  if (carried.includes(kind)) return null;
  const program = UNION_KINDS[kind].program;
  const lacking = program ? `${program.debianPackage} (${program.unpackaged})` : `what overlay=${kind} needs`;
  const kinds = carried.join(', ');
  return of === 'image'
    ? `this image was built without ${lacking}; it carries ${kinds}`
    : `this machine has no ${lacking}, so the images it builds carry ${kinds}`;
}
