// Where Node's own pages came from, read from /proc/self/smaps: the runs
// the hot-pages module mapped from node.hot, and the pages Node read from
// its squashfs image instead (each of those cost the decompression of a
// whole block). Logged at the handoff with rd.debug, so a boot shows what
// the hot set missed.

/** Where the image puts them: the hot pages' file, and the folder its squashfs image is mounted on. */
export interface RuntimePaths {
  readonly hotPages: string;
  readonly runtimeDir: string;
}

export interface RuntimePages {
  readonly hotRuns: number;
  readonly hotKiB: number;
  /** Read-only and executable pages of the binary in RAM from its squashfs image. */
  readonly imageKiB: number;
}

export function runtimePages(smaps: string, paths: RuntimePaths): RuntimePages {
  let hotRuns = 0;
  let hotKiB = 0;
  let imageKiB = 0;
  let current: 'hot' | 'image' | null = null;
  for (const line of smaps.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ (\S{4}) \S+ \S+ \S+\s+(.*)$/.exec(line);
    if (header) {
      const [, perms, path] = header;
      current = path === paths.hotPages ? 'hot' : path!.startsWith(`${paths.runtimeDir}/`) && !perms!.includes('w') ? 'image' : null;
      if (current === 'hot') hotRuns++;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current === 'hot') hotKiB += Number(rss[1]);
    if (rss && current === 'image') imageKiB += Number(rss[1]);
  }
  return { hotRuns, hotKiB, imageKiB };
}

export function describeRuntimePages(when: string, pages: RuntimePages, paths: RuntimePaths): string {
  const mib = (kib: number) => (kib / 1024).toFixed(1);
  const hot = pages.hotRuns > 0 ? `${mib(pages.hotKiB)} MiB from ${paths.hotPages} (${pages.hotRuns} runs)` : `none from ${paths.hotPages}`;
  return `runtime ${when}: its pages in use: ${hot}, ${mib(pages.imageKiB)} MiB read from its image`;
}
