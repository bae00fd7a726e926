// The cowboot command's subcommands, one row each with its usage line and
// what it does: main.ts runs them, and cowboot(8) is written from them.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bundleInit } from '../builder/bundle';
import { fileContent, listing, readImage, unionsLine } from '../builder/inspect';
import { hostCarriedKinds, imaginedConfig } from '../builder/unions';
import { writeVerity } from '../builder/verity';
import { UNION_NAMES } from '../src/config/union-names';
import { hashPassword } from '../src/formats/password-hash';
import { plan } from '../src/plan/plan';
import { currentAssets } from './assets';
import { BUILD_USAGE, buildImage, parseBuildArgs, progress } from './build';
import { NETBOOT_USAGE, parseNetbootArgs, writeNetboot } from './netboot/netboot';
import type { Command } from './command';
import { manPages } from './docs/pages';
import { CommandError } from './errors';
import { readHost } from './system/host';
import { forget, install, kernelInstall, uninstall, update } from './system/install';
import { status } from './system/status';

function positionals(args: string[], names: readonly string[], usage: string): string[] {
  if (args.length !== names.length || args.some((a) => a.startsWith('-'))) throw new CommandError(`expected ${names.join(' ') || 'no arguments'}\nusage: ${usage}`);
  return args;
}

function options<O extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean }>>(args: string[], spec: O, usage: string) {
  try {
    return parseArgs({ args, options: spec, strict: true, allowPositionals: true });
  } catch (error) {
    throw new CommandError(`${(error as Error).message}\nusage: ${usage}`);
  }
}

const INSTALL_USAGE = `cowboot install [--overlay ${UNION_NAMES.join('|')}] [--cowsize SIZE] [--mounts cow|ro|fstab] [--default] [--no-bootloader] [--dry-run]`;

export const COMMANDS: Record<string, Command> = {
  build: {
    usage: BUILD_USAGE,
    about: 'pack an initramfs for one kernel',
    run: async (args) => {
      await buildImage(currentAssets(), parseBuildArgs(args));
      return '';
    },
  },
  netboot: {
    usage: NETBOOT_USAGE,
    about: 'write a folder that serves a fleet: kernel, image and squashfs per version, iPXE scripts, and the nginx, nbd-server and dnsmasq lines',
    run: async (args) => writeNetboot(parseNetbootArgs(args), progress),
  },
  list: {
    usage: 'cowboot list IMAGE',
    about: 'list what an image holds',
    run: async (args) => {
      const entries = readImage(positionals(args, ['IMAGE'], COMMANDS.list!.usage)[0]!);
      return listing(entries) + unionsLine(entries);
    },
  },
  cat: {
    usage: 'cowboot cat IMAGE PATH',
    about: 'print one file of an image',
    run: async (args) => {
      const [image, path] = positionals(args, ['IMAGE', 'PATH'], COMMANDS.cat!.usage);
      return fileContent(readImage(image!), path!);
    },
  },
  plan: {
    usage: 'cowboot plan --cmdline "root=LABEL=x overlay=dm 3" [--config FILE]',
    about: 'show what boot would do with a command line, running nothing',
    run: async (args) => {
      const { values, positionals: extra } = options(args, { cmdline: { type: 'string' }, config: { type: 'string' } }, COMMANDS.plan!.usage);
      if (values.cmdline === undefined || extra.length > 0) throw new CommandError(`--cmdline is required\nusage: ${COMMANDS.plan!.usage}`);
      let config: string | null = null;
      if (values.config !== undefined) {
        try {
          config = readFileSync(values.config, 'utf8');
        } catch (error) {
          throw new CommandError(`--config ${values.config}: ${(error as Error).message}`);
        }
      }
      const unions = hostCarriedKinds();
      const result = await plan(values.cmdline, imaginedConfig(config, unions), unions);
      if (!result.ok) process.exitCode = 1;
      return result.text;
    },
  },
  verity: {
    usage: 'cowboot verity IMAGE [--hash-file FILE]',
    about: 'write the dm-verity hash tree of an image (to IMAGE.verity) and print its root hash, for roothash=',
    run: async (args) => {
      const { values, positionals: files } = options(args, { 'hash-file': { type: 'string' } }, COMMANDS.verity!.usage);
      const [image] = positionals(files, ['IMAGE'], COMMANDS.verity!.usage);
      const output = values['hash-file'] ?? `${image}.verity`;
      const rootHash = writeVerity(image!, output);
      process.stderr.write(`cowboot: wrote ${output}; boot with roothash=${rootHash}\n`);
      return `${rootHash}\n`;
    },
  },
  'hash-password': {
    usage: 'cowboot hash-password < file-with-password',
    about: 'print a value for "rd.rescue-password" in the config file',
    run: async (args) => {
      positionals(args, [], COMMANDS['hash-password']!.usage);
      const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (password === '') throw new CommandError('hash-password: give the password on standard input');
      return `${hashPassword(password)}\n`;
    },
  },
  install: {
    usage: INSTALL_USAGE,
    about: 'freeze this system: an image per kernel, kernel hooks, a GRUB entry per kernel (as root)',
    run: async (args) => {
      const { values, positionals: extra } = options(
        args,
        {
          overlay: { type: 'string' },
          cowsize: { type: 'string' },
          mounts: { type: 'string' },
          default: { type: 'boolean' },
          'no-bootloader': { type: 'boolean' },
          'dry-run': { type: 'boolean' },
        },
        INSTALL_USAGE,
      );
      if (extra.length > 0) throw new CommandError(`unexpected ${extra.join(' ')}\nusage: ${INSTALL_USAGE}`);
      return install(readHost(), currentAssets(), {
        overlay: values.overlay ?? 'overlayfs',
        cowsize: values.cowsize,
        mounts: values.mounts,
        makeDefault: values.default ?? false,
        noBootloader: values['no-bootloader'] ?? false,
        dryRun: values['dry-run'] ?? false,
      }, manPages(COMMANDS));
    },
  },
  uninstall: {
    usage: 'cowboot uninstall [--dry-run]',
    about: 'remove everything install added, and the GRUB entries (as root)',
    run: async (args) => {
      const { values, positionals: extra } = options(args, { 'dry-run': { type: 'boolean' } }, COMMANDS.uninstall!.usage);
      if (extra.length > 0) throw new CommandError(`unexpected ${extra.join(' ')}\nusage: ${COMMANDS.uninstall!.usage}`);
      return uninstall(readHost(), values['dry-run'] ?? false);
    },
  },
  status: {
    usage: 'cowboot status',
    about: 'which kernels have a current image, the default boot entry, whether this system is frozen now',
    run: async (args) => status((positionals(args, [], COMMANDS.status!.usage), readHost())),
  },
  update: {
    usage: 'cowboot update [VER]...',
    about: 'build the images again: of the kernels named (the kernel hook), or of all, removing those of kernels gone',
    run: async (args) => update(readHost(), positionals(args, args.map(() => 'VER'), COMMANDS.update!.usage)),
  },
  forget: {
    usage: 'cowboot forget VER',
    about: 'remove the image of a removed kernel (the kernel hook)',
    run: async (args) => forget(readHost(), positionals(args, ['VER'], COMMANDS.forget!.usage)[0]!),
  },
  'kernel-install': {
    usage: 'cowboot kernel-install --options OPTIONS --sort-key KEY add|remove VER ENTRY_DIR [KERNEL [INITRD]...]',
    about: "add or remove a kernel's frozen systemd-boot entry (what the kernel-install plugin runs)",
    run: async (args) => {
      const usage = COMMANDS['kernel-install']!.usage;
      const { values, positionals: rest } = options(args, { options: { type: 'string' }, 'sort-key': { type: 'string' } }, usage);
      const [verb, kernel] = rest;
      if ((verb !== 'add' && verb !== 'remove') || kernel === undefined || values.options === undefined || values['sort-key'] === undefined) {
        throw new CommandError(`expected --options, --sort-key, add or remove, and a kernel version\nusage: ${usage}`);
      }
      return kernelInstall(readHost(), { verb, kernel, options: values.options, sortKey: values['sort-key'] }, process.env);
    },
  },
  bundle: {
    usage: 'cowboot bundle',
    about: 'write only /init\'s bundle, dist/init.js (from a clone)',
    run: async (args) => {
      positionals(args, [], COMMANDS.bundle!.usage);
      const assets = currentAssets();
      if (assets.kind !== 'source') throw new CommandError('bundle works in a clone of the repository; the installed copy carries its bundle');
      return `${await bundleInit(assets.home)}\n`;
    },
  },
};

