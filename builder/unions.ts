// The overlay= kinds an image carries: those whose programs this machine
// has. The image's boot defaults must name one of them: a config that names
// another is refused, and where the config names none and the built-in
// default is left out, the image boots overlayfs, as dracut and live-boot do.

import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG, normalizeConfigText } from '../src/config/index';
import { type OverlayKind, UNION_KINDS } from '../src/union';
import { carriedKinds, whyNotCarried } from '../src/union/carried';
import type { KindProgram } from '../src/union/kind';
import { BuildError } from './host';

const FALLBACK: OverlayKind = 'overlayfs';

/** Where this machine keeps a kind's program: at its path in the image, or under the same name outside /usr. */
export function programOnHost(program: Pick<KindProgram, 'path'>): string | null {
  return [program.path, program.path.replace(/^\/usr/, '')].find((path) => existsSync(path)) ?? null;
}

export const hostCarriedKinds = (): OverlayKind[] => carriedKinds((path) => programOnHost({ path }) !== null);

export interface ImageUnions {
  readonly kinds: readonly OverlayKind[];
  /** The image's config file, with overlay= set where the built-in default is left out. */
  readonly configJson: string;
  /** What the build says of it. */
  readonly summary: string;
}

export function imageUnions(configJson: string, kinds: readonly OverlayKind[]): ImageUnions {
  const config = JSON.parse(configJson) as Record<string, unknown>;
  const named = config.overlay as OverlayKind | undefined;
  const leftOut = Object.keys(UNION_KINDS).filter((kind) => !kinds.includes(kind as OverlayKind)) as OverlayKind[];
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
export function imaginedConfig(text: string | null, kinds: readonly OverlayKind[]): string {
  const { json, problems } = normalizeConfigText(text ?? '{}', 'config');
  return problems.length > 0 ? text! : imageUnions(json, kinds).configJson;
}
