// What "cowboot install" puts on a Debian or Ubuntu system, by path, and the
// text of each script it writes. uninstall removes exactly these; status
// reads them.

/** The installed copy: Node, the command's bundle, /init's bundle and the image's static files. */
export const LIB_DIR = '/usr/local/lib/cowboot';
export const COMMAND = '/usr/local/sbin/cowboot';
export const CONFIG_DIR = '/etc/cowboot';
/** The image defaults (--overlay, --cowsize, --mounts), in the config file format; edit, then "cowboot update". */
export const CONFIG_FILE = `${CONFIG_DIR}/config.json`;
// Before zz-update-grub, which then lists the new image; after dkms, whose modules the image then carries.
export const POSTINST_HOOK = '/etc/kernel/postinst.d/z50-cowboot';
export const POSTRM_HOOK = '/etc/kernel/postrm.d/z50-cowboot';
/** Before 10_linux with --default, so that its first entry is GRUB's entry 0; after it otherwise. */
export const GRUB_SCRIPTS = { first: '/etc/grub.d/09_cowboot', after: '/etc/grub.d/11_cowboot' } as const;
export const BOOT_DIR = '/boot';
/** After 90-loaderentry, which copies the kernel to the ESP that our entry boots. */
/** Where man finds the pages of what is installed under /usr/local. */
export const MAN_DIR = '/usr/local/share/man';
/** A page's path by its file name: cowboot.7 goes into man7/. */
export const manPagePath = (file: string): string => `${MAN_DIR}/man${file.slice(file.lastIndexOf('.') + 1)}/${file}`;
export const KERNEL_INSTALL_PLUGIN = '/etc/kernel/install.d/91-cowboot.install';

export const ENTRY_SUFFIX = 'frozen (changes in RAM)';

export function imagePath(kernel: string): string {
  return `${BOOT_DIR}/initrd.img-${kernel}.cowboot`;
}

export function vmlinuzPath(kernel: string): string {
  return `${BOOT_DIR}/vmlinuz-${kernel}`;
}

/** The kernel an image is for, from its name; null for any other file. */
export function kernelOfImage(name: string): string | null {
  return /^initrd\.img-(.+)\.cowboot$/.exec(name)?.[1] ?? null;
}

const WRITTEN_BY = '# Written by "cowboot install"; "cowboot uninstall" removes it.';
const RUN = `${LIB_DIR}/node ${LIB_DIR}/cowboot.mjs`;

export const COMMAND_SCRIPT = `#!/bin/sh
${WRITTEN_BY}
exec ${RUN} "$@"
`;

// The kernel's maintainer scripts run these with the version as $1. A failed
// build fails the kernel's installation, as a failed initramfs-tools build
// does: better than a frozen entry that silently boots an old image.
export const POSTINST_SCRIPT = `#!/bin/sh
${WRITTEN_BY}
# Builds cowboot's image for the kernel being installed.
exec ${RUN} update "$1"
`;

export const POSTRM_SCRIPT = `#!/bin/sh
${WRITTEN_BY}
# Removes cowboot's image of the kernel being removed.
exec ${RUN} forget "$1"
`;

/**
 * kernel-install runs this with add VER ENTRY_DIR KERNEL [INITRD...] or
 * remove VER ENTRY_DIR; the frozen entry's options and place are fixed at
 * install, as the GRUB script's command line is.
 */
export function kernelInstallPlugin(options: string, sortKey: string): string {
  return `#!/bin/sh
${WRITTEN_BY}
# A frozen systemd-boot entry beside each kernel's own, added and removed with it.
[ "$KERNEL_INSTALL_LAYOUT" = bls ] || exit 0
exec ${RUN} kernel-install --options ${shQuote(options)} --sort-key ${shQuote(sortKey)} "$@"
`;
}

/** Single quotes for sh, as GRUB's own scripts quote. */
export function shQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * The /etc/grub.d script: at every update-grub, one entry per kernel that
 * has both its vmlinuz and a cowboot image, newest first, as 10_linux
 * names them. The command line is fixed at install; GRUB's own
 * GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT follow it, as in
 * Debian's entries.
 */
export function grubScript(cmdline: string): string {
  return `#!/bin/sh
${WRITTEN_BY}
# One menu entry per kernel with a cowboot image: the system frozen, its changes in RAM.
set -e
prefix="/usr"
exec_prefix="/usr"
datarootdir="/usr/share"
. "$pkgdatadir/grub-mkconfig_lib"

cowboot_cmdline=${shQuote(cmdline)}
# As 10_linux names the system (trixie's GRUB_DISTRIBUTOR is "Debian GNU/Linux" already).
case "x\${GRUB_DISTRIBUTOR}" in
  x) os=GNU/Linux ;;
  xUbuntu | xKubuntu | x*GNU/Linux) os="\${GRUB_DISTRIBUTOR}" ;;
  *) os="\${GRUB_DISTRIBUTOR} GNU/Linux" ;;
esac
rel_dir=$(make_system_path_relative_to_its_root ${BOOT_DIR})
for image in $(ls ${BOOT_DIR}/initrd.img-*.cowboot 2>/dev/null | version_sort -r); do
  version=\${image#${BOOT_DIR}/initrd.img-}
  version=\${version%.cowboot}
  [ -e "${BOOT_DIR}/vmlinuz-\${version}" ] || continue
  gettext_printf "Found cowboot image: %s\\n" "\${image}" >&2
  title="\${os}, with Linux \${version}, ${ENTRY_SUFFIX}"
  echo "menuentry '$(echo "\${title}" | grub_quote)' --class debian --class gnu-linux --class gnu --class os \\$menuentry_id_option 'cowboot-\${version}' {"
  prepare_grub_to_access_device "\${GRUB_DEVICE_BOOT}" | grub_add_tab
  printf '\\tlinux\\t%s %s\\n' "\${rel_dir}/vmlinuz-\${version}" "\${cowboot_cmdline} \${GRUB_CMDLINE_LINUX} \${GRUB_CMDLINE_LINUX_DEFAULT}"
  printf '\\tinitrd\\t%s\\n' "\${rel_dir}/initrd.img-\${version}.cowboot"
  echo "}"
done
`;
}

/** What to add by hand where there is no GRUB: a GRUB entry, and a systemd-boot one. */
export function manualEntries(kernel: string, rootUuid: string, cmdline: string): string {
  return `For GRUB (in /etc/grub.d/40_custom, then update-grub):

menuentry 'Linux ${kernel}, ${ENTRY_SUFFIX}' {
    search --no-floppy --fs-uuid --set=root ${rootUuid}
    linux ${vmlinuzPath(kernel)} ${cmdline}
    initrd ${imagePath(kernel)}
}

For systemd-boot (loader/entries/cowboot-${kernel}.conf on the ESP, with the kernel and the image copied there):

title   Linux ${kernel}, ${ENTRY_SUFFIX}
linux   /vmlinuz-${kernel}
initrd  /initrd.img-${kernel}.cowboot
options ${cmdline}
`;
}
