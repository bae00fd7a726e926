import type { BootStages } from './results';
import { loadConfig } from './config';
import { makeCowSpace } from './cow';
import { loadDrivers } from './drivers';
import { earlyMounts } from './early-mounts';
import { protectMounts } from './fstab';
import { handoff } from './handoff';
import { moveMounts } from './move-mounts';
import { mountRoot } from './root';
import { mountUnion } from './union';

export const BOOT_STAGES: BootStages = [
  loadConfig, earlyMounts, loadDrivers, mountRoot, makeCowSpace, mountUnion, protectMounts, moveMounts, handoff,
];
