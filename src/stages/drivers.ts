// Drivers without udev: coldplug reads every device's modalias, matches it
// against modules.alias and loads what matches, in parallel and in
// dependency order; rounds repeat while loading brings new devices (a PCI
// controller brings its disks). All of it runs in the background: the root
// stage looks for the root while drivers for other devices (a CD drive, a
// USB bus) still load. The modules the union and the user need are started
// at once and awaited only where they are used.

import type { Context } from '../core/context';
import type { Stage } from './results';
import { BootError } from '../core/errors';
import { KERNEL_STAMP, MODULES_ALIAS, MODULES_BUILTIN, MODULES_DEP, modulesDir } from '../layout/image-paths';
import { type AliasIndex, matchModaliases, parseAliasRules } from '../kmod/alias';
import { ModuleLoader, parseModuleDb } from '../kmod/loader';
import { readModaliases } from '../kmod/modaliases';
import { logResults } from '../kmod/services';
import { UNION_KINDS } from '../union';


function checkKernel(ctx: Context): string {
  const running = ctx.sys.readText('/proc/sys/kernel/osrelease').trim();
  let built: string;
  try {
    built = ctx.sys.readText(KERNEL_STAMP).trim();
  } catch {
    return running;
  }
  if (built !== running) {
    throw new BootError(`this image was built for kernel ${built}, but the running kernel is ${running}: its modules cannot load`, {
      hint: `rebuild the image for this kernel: cowboot build -o FILE --kernel-version ${running}, or cowboot update ${running} where cowboot is installed (see docs/building.md)`,
    });
  }
  return running;
}

function readLoaded(ctx: Context): Set<string> {
  try {
    return new Set(ctx.sys.readText('/proc/modules').split('\n').map((l) => l.split(' ')[0] ?? '').filter(Boolean));
  } catch {
    return new Set();
  }
}

function makeLoader(ctx: Context, kernel: string): ModuleLoader {
  const dir = modulesDir(kernel);
  const read = (name: string) => {
    try {
      return ctx.sys.readText(`${dir}/${name}`);
    } catch {
      return '';
    }
  };
  const db = parseModuleDb(read(MODULES_DEP), read(MODULES_BUILTIN));
  const loadOne = async (_module: string, path: string) => {
    const result = await ctx.sys.run(['insmod', `${dir}/${path}`]);
    // Loaded meanwhile by the kernel's own request (modprobe): that is fine.
    if (result.status === 0 || /File exists/.test(result.stderr)) return { ok: true };
    return { ok: false, error: result.stderr.trim() || `insmod exited with status ${result.status}` };
  };
  return new ModuleLoader(db, readLoaded(ctx), loadOne, () => ctx.sys.now(), ctx.config.jobs);
}

/**
 * Coldplug as a service: a pass loads what the current modaliases ask for,
 * round after round until a round finds nothing new. A request while a pass
 * runs asks for one more pass after it, so bursts of device events cost one
 * pass, and each module is tried once.
 */
function coldplugService(ctx: Context, loader: ModuleLoader, aliases: AliasIndex): () => Promise<void> {
  const tried = new Set<string>();
  let running: Promise<void> | null = null;
  let again = false;
  const pass = async () => {
    do {
      again = false;
      for (;;) {
        const wanted = matchModaliases(aliases, readModaliases(ctx.sys)).filter((m) => !tried.has(m) && !ctx.config.blacklist.includes(m) && loader.has(m));
        if (wanted.length === 0) break;
        wanted.forEach((m) => tried.add(m));
        logResults(ctx, 'device', await loader.load(wanted));
      }
    } while (again);
  };
  return () => {
    if (running) {
      again = true;
      return running;
    }
    // Cleared once settled, not inside the pass: a pass with nothing to load
    // ends before the assignment, and would leave `running` set for ever.
    running = pass().finally(() => {
      running = null;
    });
    return running;
  };
}

export const loadDrivers: Stage<'drivers'> = {
  name: 'drivers',
  async run(ctx) {
    const kernel = checkKernel(ctx);
    const loader = makeLoader(ctx, kernel);
    const { overlay, loop, modules, blacklist } = ctx.config;
    const required = [...new Set([...UNION_KINDS[overlay].modules, ...(loop ? ['loop'] : []), ...modules])].filter((m) => !blacklist.includes(m));
    const requiredModules = loader.load(required).then((results) => {
      logResults(ctx, 'needed', results);
      return results;
    });
    let aliasText = '';
    try {
      aliasText = ctx.sys.readText(`${modulesDir(kernel)}/${MODULES_ALIAS}`);
    } catch {
      ctx.log.warn(`no ${MODULES_ALIAS} for ${kernel}: no drivers are loaded for devices`);
    }
    const coldplug = coldplugService(ctx, loader, parseAliasRules(aliasText));
    const started = ctx.sys.now();
    const background = [coldplug().then(() => ctx.events.emit({ kind: 'coldplug-done', ms: Math.round(ctx.sys.now() - started) }))];
    return { loader, requiredModules, coldplug, background };
  },
};
