import type { OverlayKind } from '../config';
import type { Context, Stage } from '../context';
import { exec } from '../exec';

// Controllers a generic machine may boot from. Without coldplug we cannot
// tell which the machine has, so all that the image carries are tried.
export const STORAGE_MODULES = [
  'virtio_pci', 'virtio_blk', 'virtio_scsi', 'ahci', 'ata_piix', 'nvme', 'sd_mod', 'sr_mod',
  'xhci_pci', 'ehci_pci', 'ohci_pci', 'uhci_hcd', 'usb_storage', 'uas',
] as const;

export function unionModules(overlay: OverlayKind): string[] {
  switch (overlay) {
    case 'unionfs':
      return ['fuse'];
    case 'overlayfs':
      return ['overlay'];
    case 'dm':
      // brd (cow=ram) is loaded by the cow stage, with the size as its parameter.
      return ['dm_snapshot', 'loop'];
    case 'none':
      return [];
  }
}

async function loadTolerant(ctx: Context, modules: readonly string[]): Promise<void> {
  const argv = ['modprobe', '-a', ...modules];
  ctx.log.debug(`run: ${argv.join(' ')}`);
  const result = await ctx.sys.run(argv);
  if (result.status !== 0) ctx.log.info(`some storage drivers are not in this image or kernel: ${result.stderr.trim()}`);
}

export const loadDrivers: Stage = {
  name: 'drivers',
  async run(ctx) {
    await loadTolerant(ctx, STORAGE_MODULES);
    // What the union and the user asked for must load: without them the boot cannot go on.
    const required = [...new Set([...unionModules(ctx.config.overlay), ...(ctx.config.loop ? ['loop'] : []), ...ctx.config.modules])];
    if (required.length > 0) {
      await exec(ctx, ['modprobe', '-a', ...required], 'is the module in the image? Add it when building: node build.mjs initramfs … (see README)');
    }
    if (required.length > 0) ctx.log.info(`loaded ${required.join(' ')}`);
  },
};
