// A root disk image opened for chroot, as a user's installed system is:
// copied onto a zram device and mounted, with /dev, /proc and /sys bound in.
// Not a loop device: grub-probe follows a loop device to its backing file,
// which is outside the chroot, while a zram device is a disk to it.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatEsp } from './debian';
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

export const ESP_DIR = '/boot/efi';

/**
 * An EFI system partition for the chroot, on /boot/efi. These hosts' kernel
 * has no vfat driver, so the FAT image sits on a zram device that nothing
 * mounts, and /boot/efi is a tmpfs that bears that device's name:
 * grub-install, which probes the device named in mountinfo with its own FAT
 * reader, then finds an EFI partition (bootctl needs SYSTEMD_RELAX_ESP_CHECKS=1),
 * and what they write lands in the tmpfs. mtools copies it onto the FAT
 * image whenever the root is saved, and back into a new tmpfs when the root
 * is mounted again.
 */
interface Esp {
  readonly image: string;
  readonly zram: number;
}

export class MountedRoot {
  private constructor(
    private readonly zram: number,
    readonly dir: string,
    private readonly binds: readonly string[],
    private readonly esp: Esp | null,
  ) {}

  /**
   * `binds`: host folders seen at the same path inside (the project, so that
   * its command runs there); `esp`: an empty FAT image to stand for the
   * machine's EFI system partition on /boot/efi.
   */
  static open(image: string, binds: readonly string[] = [], espImage: string | null = null): MountedRoot {
    const zram = onZram(image);
    const esp = espImage === null ? null : { image: espImage, zram: onZram(espImage) };
    const root = new MountedRoot(zram, join(VM_CACHE, `chroot-zram${zram}`), binds, esp);
    try {
      root.mount();
    } catch (error) {
      root.close();
      throw error;
    }
    return root;
  }

  private mountPoints(): string[] {
    return [...API.map((d) => `/${d}`), ...this.binds, ...(this.esp ? [ESP_DIR] : [])];
  }

  private mount(): void {
    mkdirSync(this.dir, { recursive: true });
    execFileSync('mount', [`/dev/zram${this.zram}`, this.dir]);
    for (const dir of [...API.map((d) => `/${d}`), ...this.binds]) {
      mkdirSync(join(this.dir, dir), { recursive: true });
      execFileSync('mount', ['--bind', dir, join(this.dir, dir)]);
    }
    if (this.esp) {
      mkdirSync(this.path(ESP_DIR), { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700', `/dev/zram${this.esp.zram}`, this.path(ESP_DIR)]);
      const names = execFileSync('mdir', ['-b', '-i', this.esp.image, '::/'], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (names.length > 0) execFileSync('mcopy', ['-s', '-n', '-i', this.esp.image, ...names, this.path(ESP_DIR)]);
    }
  }

  private unmount(): void {
    for (const dir of this.mountPoints().reverse()) spawnSync('umount', ['-l', join(this.dir, dir)]);
    spawnSync('umount', [this.dir]);
  }

  /** Copies what was written to the ESP onto its FAT image, which then holds just that. */
  private saveEsp(esp: Esp): void {
    formatEsp(esp.image);
    const names = readdirSync(this.path(ESP_DIR));
    if (names.length > 0) execFileSync('mcopy', ['-s', '-Q', '-i', esp.image, ...names.map((n) => join(this.path(ESP_DIR), n)), '::/']);
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

  /** Writes the root as it is now to a file, and the ESP to its image, for a VM to boot. */
  saveTo(file: string): void {
    if (this.esp) this.saveEsp(this.esp);
    this.unmount();
    try {
      execFileSync('dd', [`if=/dev/zram${this.zram}`, `of=${file}`, 'bs=4M', 'conv=sparse', 'status=none']);
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
    if (existsSync(this.dir)) rmdirSync(this.dir);
    if (this.esp) writeFileSync(`${ZRAM}/hot_remove`, String(this.esp.zram));
    writeFileSync(`${ZRAM}/hot_remove`, String(this.zram));
  }
}
