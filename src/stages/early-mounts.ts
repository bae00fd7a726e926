import type { Stage } from './results';
import { type MountSpec, mountOnce } from '../core/mount';

export const EARLY_MOUNTS: readonly MountSpec[] = [
  { type: 'proc', source: 'proc', target: '/proc', options: 'nosuid,nodev,noexec' },
  { type: 'sysfs', source: 'sysfs', target: '/sys', options: 'nosuid,nodev,noexec' },
  { type: 'devtmpfs', source: 'devtmpfs', target: '/dev', options: 'mode=0755,nosuid' },
  // gid 5 is tty; the seed's (and every distribution's) devpts options.
  { type: 'devpts', source: 'devpts', target: '/dev/pts', options: 'gid=5,mode=620,nosuid,noexec' },
  // systemd's INITRD_INTERFACE: the /run the booted system takes over is mounted just so.
  { type: 'tmpfs', source: 'tmpfs', target: '/run', options: 'mode=0755,nosuid,nodev,strictatime' },
];

export const earlyMounts: Stage<'early-mounts'> = {
  name: 'early-mounts',
  async run(ctx) {
    for (const spec of EARLY_MOUNTS) await mountOnce(ctx, spec);
  },
};
