// Loads modules in parallel, in dependency order from modules.dep: a module
// starts once every module it needs is in, with a bounded number of loads at
// a time. Each module is loaded once, whichever round or stage asks for it.

export interface ModuleDb {
  /** Module name to its file, relative to /lib/modules/VERSION. */
  readonly paths: ReadonlyMap<string, string>;
  /** Module name to the names of the modules it needs. */
  readonly deps: ReadonlyMap<string, readonly string[]>;
  readonly builtin: ReadonlySet<string>;
}

export interface LoadResult {
  readonly module: string;
  readonly ok: boolean;
  readonly ms: number;
  readonly error?: string;
}

export type LoadOne = (module: string, path: string) => Promise<{ ok: boolean; error?: string }>;

export function moduleName(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  return base.replace(/\.ko(\.(xz|gz|zst))?$/, '').replaceAll('-', '_');
}

export function parseModuleDb(depText: string, builtinText: string): ModuleDb {
  const paths = new Map<string, string>();
  const deps = new Map<string, string[]>();
  for (const line of depText.split('\n')) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const path = line.slice(0, colon).trim();
    const name = moduleName(path);
    paths.set(name, path);
    deps.set(name, line.slice(colon + 1).trim().split(/\s+/).filter(Boolean).map(moduleName));
  }
  return { paths, deps, builtin: new Set(builtinText.split('\n').filter(Boolean).map(moduleName)) };
}

export class ModuleLoader {
  private readonly started = new Map<string, Promise<LoadResult>>();
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(
    private readonly db: ModuleDb,
    /** Modules already in the kernel (/proc/modules). */
    private readonly loaded: ReadonlySet<string>,
    private readonly loadOne: LoadOne,
    private readonly now: () => number,
    private readonly limit: number,
  ) {}

  /** Whether a module can be loaded from this image or is in the kernel already. */
  has(module: string): boolean {
    const name = module.replaceAll('-', '_');
    return this.db.paths.has(name) || this.db.builtin.has(name) || this.loaded.has(name);
  }

  /** Loads the modules and what they need; resolves with one result per module actually loaded. */
  async load(modules: readonly string[]): Promise<LoadResult[]> {
    const results = await Promise.all(modules.map((m) => this.one(m.replaceAll('-', '_'))));
    return results.filter((r) => r.ms >= 0);
  }

  private one(name: string): Promise<LoadResult> {
    let task = this.started.get(name);
    if (!task) {
      task = this.start(name);
      this.started.set(name, task);
    }
    return task;
  }

  private async start(name: string): Promise<LoadResult> {
    // ms -1: nothing was done (built in, or already loaded).
    if (this.db.builtin.has(name) || this.loaded.has(name)) return { module: name, ok: true, ms: -1 };
    const path = this.db.paths.get(name);
    if (!path) return { module: name, ok: false, ms: 0, error: 'not in this image' };
    const deps = await Promise.all((this.db.deps.get(name) ?? []).map((d) => this.one(d)));
    const failed = deps.find((d) => !d.ok);
    if (failed) return { module: name, ok: false, ms: 0, error: `needs ${failed.module}, which failed` };
    await this.slot();
    const started = this.now();
    try {
      const result = await this.loadOne(name, path);
      return { module: name, ms: Math.round(this.now() - started), ...result };
    } finally {
      this.release();
    }
  }

  private slot(): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.running--;
  }
}
