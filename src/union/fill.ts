// How full a RAM layer may get before cowboot says so. The fill watcher
// (fill-watch.ts) warns on the console and in the kernel's log as a layer
// crosses each step, and cowboot status marks a layer past the first. A step
// is armed again only once the layer is back below its mark, so a layer
// that hovers about a step warns once, not at every check. lvm's dmeventd,
// the prior art, warns of a snapshot from 80%.

export const FILL_STEPS = [
  { percent: 80, rearmBelow: 75 },
  { percent: 95, rearmBelow: 90 },
  { percent: 100, rearmBelow: 98 },
] as const;
export const FILL_CHECK_SECONDS = 10;

/** The RAM layers by what users know them as, the same in the warnings and in status. */
export const RAM_LAYERS = {
  root: "the root's changes",
  snapshot: "the root's snapshot",
  mounts: "the other filesystems' changes",
} as const;

/** What a full tmpfs of changes means to the system above it. */
export function tmpfsFull(whose: string): string {
  return `writes to ${whose} fail with "No space left on device", and reads go on`;
}

/** Whole percent, rounded down, so that "100%" means full. */
export function fillPercent(used: number, total: number): number {
  return total > 0 ? Math.floor((100 * used) / total) : 0;
}
