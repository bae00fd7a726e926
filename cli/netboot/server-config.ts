// What cowboot netboot writes besides the files it serves: the iPXE script
// a client boots, and the lines that make Debian's nginx, nbd-server and
// dnsmasq serve the folder. Text only, from the version's names, so that
// the tests can check it line by line.

/** One version of what the folder serves: its files, in its own folder, never changed once written. */
export interface NetbootVersion {
  /** v- and 12 hex digits of the hash of its files: the folder's name, and its NBD export's. */
  readonly name: string;
  readonly imageSha256: string;
}

export interface ScriptInputs {
  /** Where the folder is served over HTTP, ending in /. */
  readonly url: string;
  readonly version: NetbootVersion;
  /** root=: the image over HTTP (fetched into RAM), or the NBD export. */
  readonly root: { readonly kind: 'http' } | { readonly kind: 'nbd'; readonly server: string };
  readonly append: string;
}

export const IMAGE_FILE = 'filesystem.squashfs';
export const KERNEL_FILE = 'vmlinuz';
export const INITRD_FILE = 'initrd.img';

export function ipxeScript({ url, version, root, append }: ScriptInputs): string {
  const base = `${url}${version.name}/`;
  const rootParam = root.kind === 'http' ? `root=live:${base}${IMAGE_FILE}` : `root=nbd:${root.server}:${version.name}`;
  const params = [`initrd=${INITRD_FILE}`, rootParam, ...(append ? [append] : [])].join(' ');
  return [
    '#!ipxe',
    `# cowboot netboot: ${version.name} (${IMAGE_FILE} SHA-256 ${version.imageSha256}), ${root.kind === 'http' ? 'fetched into RAM over HTTP' : `read over NBD from ${root.server}`}.`,
    '# Rewritten last when a new version is added: a client that booted an older one keeps its files.',
    'isset ${ip} || dhcp',
    `kernel ${base}${KERNEL_FILE} ${params}`,
    `initrd --name ${INITRD_FILE} ${base}${INITRD_FILE}`,
    'boot',
    '',
  ].join('\n');
}

/** nginx: the folder at the URL's path, inside the server block that listens on the URL's port. */
export function nginxConfig(url: string, dir: string): string {
  const path = new URL(url).pathname;
  return [
    `# cowboot netboot: serves ${dir} at ${url}; put this in the server { } block that listens on port ${new URL(url).port || 80}.`,
    path === '/' ? `location / {\n    root ${dir};\n}` : `location ${path} {\n    alias ${dir}/;\n}`,
    '',
  ].join('\n');
}

/** nbd-server: one read-only export per version, named as the version; for its includedir (Debian's: /etc/nbd-server/conf.d). */
export function nbdExports(versions: readonly NetbootVersion[], dir: string): string {
  return [
    '# cowboot netboot: one export per version; nbd-server adds new ones on SIGHUP (systemctl reload nbd-server) and serves the old ones on.',
    ...versions.map((v) => `[${v.name}]\nexportname = ${dir}/${v.name}/${IMAGE_FILE}\nreadonly = true\n`),
  ].join('\n');
}

/** dnsmasq: PXE firmware gets iPXE by TFTP (Debian's ipxe package), and iPXE gets the script over HTTP. */
export function dnsmasqConfig(url: string, scripts: readonly string[]): string {
  return [
    '# cowboot netboot: PXE, with dnsmasq as the DHCP and TFTP server (or beside another DHCP server: dhcp-range=…,proxy).',
    'enable-tftp',
    'tftp-root=/usr/lib/ipxe',
    '# iPXE says so in option 175; the firmware does not, and gets iPXE first.',
    'dhcp-match=set:ipxe,175',
    'dhcp-match=set:efi64,option:client-arch,7',
    'dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe',
    'dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi',
    `dhcp-boot=tag:ipxe,${url}${scripts[0]}`,
    ...scripts.slice(1).map((s) => `# or, for the other root: dhcp-boot=tag:ipxe,${url}${s}`),
    '',
  ].join('\n');
}
