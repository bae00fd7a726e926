import type { Context } from '../context';
import { exec } from '../exec';
import { NEW_ROOT } from '../image-layout';
import { RO_DIR, UPPER_DIR, WORK_DIR } from '../paths';

// upper and work must be on one filesystem: both are on the COW tmpfs.
export function overlayfsCommand(): string[] {
  return ['mount', '-t', 'overlay', '-o', `lowerdir=${RO_DIR},upperdir=${UPPER_DIR},workdir=${WORK_DIR}`, 'overlay', NEW_ROOT];
}

export async function mountOverlayfs(ctx: Context): Promise<void> {
  await exec(ctx, overlayfsCommand(), 'the overlay module must be loaded');
}
