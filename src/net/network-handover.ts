// A root on the network (NBD, NFS) needs the interface for as long as the
// system runs, so the address the initramfs set is handed over rather than
// released: each of Debian's network managers is told, in /run (which moves
// into the new root), to leave that interface as it is. Without this,
// NetworkManager or networkd starting in the booted system takes the
// interface over, drops the address, and every read of the root hangs.
// The booted system's udev renames interfaces, and Linux renames one that
// is up (6.2 and later: eth0 became ens3 in the Debian test, and networkd
// took it): so the interface keeps its name by a .link file, and
// networkd and NetworkManager are told by its hardware address as well.

import type { Context } from '../core/context';
import type { Network } from './network';

/** The files that say so, for the network managers that read them, by path. */
export function handoverFiles(network: Network, why: string): Record<string, string> {
  const { device, mac } = network;
  const said = `# cowboot: the root is on the network (${why}) through ${device}; it must keep its address.\n`;
  return {
    // udev: the first .link file that matches names the interface (systemd.link(5)); this one, its own name, before 99-default.link's.
    [`/run/systemd/network/10-cowboot-${device}.link`]: `${said}[Match]\nMACAddress=${mac}\n\n[Link]\nNamePolicy=\nName=${device}\n`,
    // systemd-networkd: an interface it does not manage is one it never reconfigures (systemd.network(5), Unmanaged=).
    [`/run/systemd/network/10-cowboot-${device}.network`]: `${said}[Match]\nMACAddress=${mac}\n\n[Link]\nUnmanaged=yes\n`,
    // NetworkManager reads /run/NetworkManager/conf.d too (NetworkManager.conf(5)).
    [`/run/NetworkManager/conf.d/90-cowboot-${device}.conf`]: `${said}[keyfile]\nunmanaged-devices=interface-name:${device};mac:${mac}\n`,
    // ifupdown: the interface is up already, so ifup leaves it and ifdown at shutdown is what brings it down (as for initramfs-tools' NFS roots).
    [`/run/network/ifstate.${device}`]: `${device}\n`,
    // initramfs-tools' record of what the initramfs configured, which Debian's scripts read (ipconfig's format).
    [`/run/net-${device}.conf`]: [
      `DEVICE='${device}'`,
      `PROTO='${network.how === 'dhcp' ? 'dhcp' : 'none'}'`,
      `IPV4ADDR='${network.address}'`,
      `IPV4NETMASK='${netmask(network.prefix)}'`,
      `IPV4GATEWAY='${network.gateway ?? '0.0.0.0'}'`,
      `IPV4DNS0='${network.dns[0] ?? '0.0.0.0'}'`,
      `IPV4DNS1='${network.dns[1] ?? '0.0.0.0'}'`,
      '',
    ].join('\n'),
  };
}

function netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

/** Keeps the network up for the booted system, said in the log. */
export function keepNetwork(ctx: Context, network: Network, why: string): void {
  for (const [path, text] of Object.entries(handoverFiles(network, why))) {
    ctx.sys.mkdirp(path.slice(0, path.lastIndexOf('/')));
    ctx.sys.writeText(path, text);
  }
  ctx.log.info(`network: ${network.device} keeps ${network.address}/${network.prefix} for the booted system (${why}); networkd, NetworkManager and ifupdown are told to leave it`);
}
