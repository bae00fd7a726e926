// The overlay= kinds an image carries: those whose programs this machine
// has. The image's boot defaults must name one of them: a config that names
// another is refused, and where the config names none and the built-in
// default is left out, the image boots overlayfs, as dracut and live-boot do.

import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG, normalizeConfigText } from '../src/config';
import type { UnionName } from '../src/config/union-names';
import { UNION_KINDS } from '../src/union';
import { carriedKinds, whyNotCarried } from '../src/union/carried';
import type { KindProgram } from '../src/union/kind';
import { BuildError } from './host';

const FALLBACK: UnionName = 'overlayfs';

/** Where this machine keeps a kind's program: at its path in the image, or under the same name outside /usr. */
export function programOnHost(program: Pick<KindProgram, 'path'>): string | null {
  return [program.path, program.path.replace(/^\/usr/, '')].find((path) => existsSync(path)) ?? null;
}

export const hostCarriedKinds = (): UnionName[] => carriedKinds((path) => programOnHost({ path }) !== null);

export interface ImageUnions {
  readonly kinds: readonly UnionName[];
  /** The image's config file, with overlay= set where the built-in default is left out. */
  readonly configJson: string;
  /** What the build says of it. */
  readonly summary: string;
}

export function imageUnions(configJson: string, kinds: readonly UnionName[]): ImageUnions {
  const config = JSON.parse(configJson) as Record<string, unknown>;
  const named = config.overlay as UnionName | undefined;
  const leftOut = Object.keys(UNION_KINDS).filter((kind) => !kinds.includes(kind as UnionName)) as UnionName[];
  const why = leftOut.map((kind) => `${kind}: ${whyNotCarried(kind, kinds, 'build machine')}`);
  const summary = `union kinds in the image: ${kinds.join(', ')}${why.length > 0 ? `; left out ${why.join('; ')}` : ''}`;
  if (named !== undefined) {
    const problem = whyNotCarried(named, kinds, 'build machine');
    if (problem !== null) throw new BuildError(`the config's overlay=${named} cannot be: ${problem}`);
    return { kinds, configJson, summary };
  }
  if (kinds.includes(DEFAULT_CONFIG.overlay)) return { kinds, configJson, summary };
  const withDefault = `${JSON.stringify({ ...config, overlay: FALLBACK }, null, 2)}\n`;
  return { kinds, configJson: withDefault, summary: `${summary}; the image boots overlay=${FALLBACK} unless told otherwise` };
}

/**
 * For plan mode: the config a build here would pack from this file's text.
 * A file with problems is given as it is, for the plan to report them as boot would.
 */
export function imaginedConfig(text: string | null, kinds: readonly UnionName[]): string {
  const { json, problems } = normalizeConfigText(text ?? '{}', 'config');
  return problems.length > 0 ? text! : imageUnions(json, kinds).configJson;
}
