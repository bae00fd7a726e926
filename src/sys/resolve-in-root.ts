// Follows a path inside another root the way the kernel will once that root
// is "/": absolute symlinks (/sbin/init -> /lib/systemd/systemd) resolve
// against the new root, not against the initramfs.

import type { PathInfo } from './system';

interface ReadOnlyFs {
  lstat(path: string): PathInfo | null;
  readlink(path: string): string;
}

type Resolved = { ok: true; path: string; info: PathInfo } | { ok: false; reason: string };

const MAX_LINKS = 40; // the kernel's limit (ELOOP)

export function resolveInRoot(fs: ReadOnlyFs, root: string, path: string): Resolved {
  let pending = path.split('/').filter((p) => p !== '');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const [name, ...rest] = pending;
    pending = rest;
    if (name === '.' || name === undefined) continue;
    if (name === '..') {
      done.pop();
      continue;
    }
    const hostPath = `${root}/${[...done, name].join('/')}`;
    const info = fs.lstat(hostPath);
    if (!info) return { ok: false, reason: `/${[...done, name].join('/')} does not exist` };
    if (info.kind === 'symlink') {
      if (++links > MAX_LINKS) return { ok: false, reason: `too many symlinks resolving ${path}` };
      const target = fs.readlink(hostPath);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((p) => p !== ''), ...pending];
      continue;
    }
    if (pending.length > 0 && info.kind !== 'dir') return { ok: false, reason: `/${[...done, name].join('/')} is not a directory` };
    done.push(name);
  }
  const final = `${root}/${done.join('/')}`;
  const info = fs.lstat(final);
  return info ? { ok: true, path: `/${done.join('/')}`, info } : { ok: false, reason: `${path} does not exist` };
}
