// The stages in boot order. The config stage comes first: rd.break= and the
// failure policy must be known before anything else runs.
export const STAGE_NAMES = ['config', 'early-mounts', 'drivers', 'root', 'cow', 'union', 'fstab', 'move-mounts', 'handoff'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** rd.break= can stop before any stage but the one that reads rd.break=. */
export const BREAK_STAGES = STAGE_NAMES.filter((s) => s !== 'config');
