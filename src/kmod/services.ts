// The module loader as the stages use it, once the drivers stage has started
// it: what it loaded goes to the log, and a module that a step needs and that
// did not load is a failure naming it.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import type { LoadResult, ModuleLoader } from './loader';

/** What the drivers stage starts, once, for the stages after it. */
export interface Services {
  readonly loader: ModuleLoader;
  /** The union's and modules='s modules, loading while the root is looked for. */
  readonly requiredModules: Promise<readonly LoadResult[]>;
  /** Asks for a coldplug pass, for devices that appeared since the last; resolves when it is done. */
  coldplug(): Promise<void>;
  /** Work left running (coldplug); awaited before the handoff, so nothing loads across switch_root. */
  readonly background: Promise<void>[];
}

export function logResults(ctx: Context, why: string, results: readonly LoadResult[]): void {
  for (const r of results) {
    if (r.ok) ctx.log.info(`loaded ${r.module} in ${r.ms} ms (${why})`);
    else ctx.log.debug(`could not load ${r.module} (${why}): ${r.error}`);
  }
}

/** The modules the union and modules= need: awaited where they are first used. */
export async function requireModules(services: Services): Promise<void> {
  const failed = (await services.requiredModules).filter((r) => !r.ok);
  if (failed.length > 0) {
    throw new BootError(`needed modules did not load: ${failed.map((f) => `${f.module} (${f.error})`).join('; ')}`, {
      hint: 'is the module in the image? Add it when building: cowboot build --add-module NAME …',
    });
  }
}

/** A filesystem's driver, through the same loader. */
export async function loadModule(ctx: Context, services: Services, module: string, why: string): Promise<void> {
  const results = await services.loader.load([module]);
  logResults(ctx, why, results);
  const failed = results.find((r) => !r.ok);
  if (failed) throw new BootError(`module ${failed.module} did not load: ${failed.error}`, { hint: `the ${module} driver is needed for ${why}` });
}
