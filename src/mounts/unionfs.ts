import type { Context } from '../context';
import { exec } from '../exec';
import { HANDOVER_DIR, NEW_ROOT, RO_DIR, UPPER_DIR } from '../paths';

/** `path` as the daemon sees it from inside its chroot. */
function inChroot(path: string): string {
  return path.slice(HANDOVER_DIR.length);
}

// The seed's invocation. chroot= pins the daemon's root to the folder that
// holds both branches, so its branch paths stay valid after that folder
// (with /run) is moved into the new root and the initramfs is deleted.
export function unionfsCommand(): string[] {
  return [
    'unionfs',
    '-o', 'allow_other,use_ino,suid,dev,nonempty,kernel_cache',
    '-o', `cow,chroot=${HANDOVER_DIR},max_files=32768`,
    `${inChroot(UPPER_DIR)}=RW:${inChroot(RO_DIR)}=RO`,
    NEW_ROOT,
  ];
}

export async function mountUnionfs(ctx: Context): Promise<void> {
  await exec(ctx, unionfsCommand(), 'is /dev/fuse there? The fuse module must be loaded');
}
