// The API filesystems: mounted first (early-mounts; the config stage and the
// rescue shell take the ones they need sooner), on the mount points the
// image has for them (layout's API_MOUNTS), and moved into the new root at
// the end. One table, so every place mounts them with the same options.

import type { API_MOUNTS } from '../layout/image-paths';
import type { MountSpec } from './mount';

const BY_TARGET = {
  '/proc': { type: 'proc', source: 'proc', target: '/proc', options: 'nosuid,nodev,noexec' },
  '/sys': { type: 'sysfs', source: 'sysfs', target: '/sys', options: 'nosuid,nodev,noexec' },
  '/dev': { type: 'devtmpfs', source: 'devtmpfs', target: '/dev', options: 'mode=0755,nosuid' },
  // gid 5 is tty; the seed's (and every distribution's) devpts options.
  '/dev/pts': { type: 'devpts', source: 'devpts', target: '/dev/pts', options: 'gid=5,mode=620,nosuid,noexec' },
  // systemd's INITRD_INTERFACE: the /run the booted system takes over is mounted just so.
  '/run': { type: 'tmpfs', source: 'tmpfs', target: '/run', options: 'mode=0755,nosuid,nodev,strictatime' },
} as const satisfies Record<(typeof API_MOUNTS)[number] | '/dev/pts', MountSpec>;

/** In the order they are mounted. */
export const API_FILESYSTEMS: readonly MountSpec[] = Object.values(BY_TARGET);

export const apiFilesystem = (target: keyof typeof BY_TARGET): MountSpec => BY_TARGET[target];
