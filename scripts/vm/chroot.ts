// A root disk image opened for chroot, as a user's installed system is:
// copied onto a zram device and mounted, with /dev, /proc and /sys bound in.
// Not a loop device: grub-probe follows a loop device to its backing file,
// which is outside the chroot, while a zram device is a disk to it.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VM_CACHE } from './project';

const ZRAM = '/sys/class/zram-control';
const API = ['dev', 'proc', 'sys'];

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A filesystem image on a zram device of its own. */
function onZram(image: string): number {
  if (!existsSync(`${ZRAM}/hot_add`)) throw new Error(`no ${ZRAM}: the install tests need the kernel's zram driver (modprobe zram)`);
  const zram = Number(readFileSync(`${ZRAM}/hot_add`, 'utf8').trim());
  writeFileSync(`/sys/block/zram${zram}/disksize`, String(statSync(image).size));
  execFileSync('dd', [`if=${image}`, `of=/dev/zram${zram}`, 'bs=4M', 'conv=sparse', 'status=none']);
  return zram;
}

export class MountedRoot {
  private constructor(
    /** Each filesystem's zram device by where it is mounted inside: "/" first. */
    private readonly zrams: ReadonlyMap<string, number>,
    readonly dir: string,
    private readonly binds: readonly string[],
  ) {}

  /**
   * `binds`: host folders seen at the same path inside (the project, so that
   * its command runs there); `mounts`: more filesystem images, by where they
   * are mounted inside (an ESP on /boot/efi), each on a zram device too.
   */
  static open(image: string, binds: readonly string[] = [], mounts: Readonly<Record<string, string>> = {}): MountedRoot {
    const zrams = new Map<string, number>([['/', onZram(image)]]);
    for (const [inside, file] of Object.entries(mounts)) zrams.set(inside, onZram(file));
    const root = new MountedRoot(zrams, join(VM_CACHE, `chroot-zram${zrams.get('/')}`), binds);
    root.mount();
    return root;
  }

  private mount(): void {
    mkdirSync(this.dir, { recursive: true });
    for (const [inside, zram] of this.zrams) execFileSync('mount', [`/dev/zram${zram}`, join(this.dir, inside)]);
    for (const dir of [...API.map((d) => `/${d}`), ...this.binds]) {
      mkdirSync(join(this.dir, dir), { recursive: true });
      execFileSync('mount', ['--bind', dir, join(this.dir, dir)]);
    }
  }

  private unmount(): void {
    for (const dir of [...API.map((d) => `/${d}`), ...this.binds].reverse()) spawnSync('umount', ['-l', join(this.dir, dir)]);
    for (const inside of [...this.zrams.keys()].reverse()) execFileSync('umount', [join(this.dir, inside)]);
  }

  /** The host path of a path inside. */
  path(inside: string): string {
    return join(this.dir, inside);
  }

  run(argv: readonly string[], env: Record<string, string> = {}): Ran {
    const result = spawnSync('chroot', [this.dir, ...argv], {
      encoding: 'utf8',
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', ...env },
      maxBuffer: 64 << 20,
    });
    return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  }

  /** Writes the filesystems as they are now to files, by where each is mounted inside ("/" for the root), for a VM to boot. */
  saveTo(files: Readonly<Record<string, string>>): void {
    this.unmount();
    try {
      for (const [inside, file] of Object.entries(files)) execFileSync('dd', [`if=/dev/zram${this.zrams.get(inside)}`, `of=${file}`, 'bs=4M', 'conv=sparse', 'status=none']);
    } finally {
      this.mount();
    }
  }

  /** Every path below the root (but those given) with what it is: a file's SHA-256, a link's target, or a folder. */
  snapshot(skip: readonly string[]): Map<string, string> {
    const found = new Map<string, string>();
    const walk = (inside: string) => {
      for (const name of readdirSync(this.path(inside)).sort()) {
        const path = join(inside, name);
        if (skip.some((s) => path === s || path.startsWith(`${s}/`))) continue;
        const stat = lstatSync(this.path(path));
        if (stat.isSymbolicLink()) found.set(path, `link ${readlinkSync(this.path(path))}`);
        else if (stat.isDirectory()) {
          found.set(path, 'folder');
          walk(path);
        } else if (stat.isFile()) found.set(path, createHash('sha256').update(readFileSync(this.path(path))).digest('hex'));
        else found.set(path, 'special');
      }
    };
    walk('/');
    return found;
  }

  close(): void {
    this.unmount();
    rmdirSync(this.dir);
    for (const zram of [...this.zrams.values()].reverse()) writeFileSync(`${ZRAM}/hot_remove`, String(zram));
  }
}
