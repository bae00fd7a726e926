// The network for what the boot fetches: ip= (the kernel's and dracut's
// syntax; DHCP on the first wired interface when it is not given), the
// interface waited for as coldplug loads its driver, the address set with
// ip(8), DNS written to /etc/resolv.conf for Node's resolver. Every wait is
// bounded and names what it waited for.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { exec } from '../core/exec';
import { type IpConfig, parseIpParam } from '../formats/ip-param';
import { askLease } from './dhcp';

export interface Network {
  readonly device: string;
  /** Its hardware address, which stays when the booted system's udev renames it. */
  readonly mac: string;
  readonly address: string;
  readonly prefix: number;
  readonly gateway: string | null;
  readonly dns: readonly string[];
  /** How the address came: DHCP, or ip= as given. */
  readonly how: 'dhcp' | 'static';
}

const POLL_MS = 100;

/** The wired interfaces (ARPHRD_ETHER), in the kernel's order of names. */
function wiredInterfaces(ctx: Context): string[] {
  return ctx.sys
    .readdir('/sys/class/net')
    .filter((name) => name !== 'lo')
    .filter((name) => {
      try {
        return ctx.sys.readText(`/sys/class/net/${name}/type`).trim() === '1';
      } catch {
        return false;
      }
    })
    .sort();
}

async function waitForInterface(ctx: Context, wanted: string | null, timeoutMs: number): Promise<string> {
  const deadline = ctx.sys.now() + timeoutMs;
  for (;;) {
    const present = wiredInterfaces(ctx);
    const found = wanted === null ? present[0] : present.find((name) => name === wanted);
    if (found) return found;
    if (ctx.sys.now() >= deadline) {
      throw new BootError(`${wanted === null ? 'no wired network interface' : `network interface ${wanted} did not`} appeared within ${Math.round(timeoutMs / 1000)} s`, {
        hint: `interfaces seen: ${present.join(', ') || 'none'}; a missing driver can be added with modules= (or cowboot build --add-module), a slow one given more time with rootdelay=`,
      });
    }
    await ctx.sys.sleep(POLL_MS);
  }
}

function ipConfig(ctx: Context): IpConfig {
  const text = ctx.config.ip;
  if (text === null) {
    ctx.log.info('no ip= given: DHCP on the first wired interface');
    return { kind: 'dhcp', device: null };
  }
  const parsed = parseIpParam(text);
  // The config stage has refused a bad value already; this only narrows the type.
  if ('error' in parsed) throw new BootError(`ip=${text}: ${parsed.error}`);
  return parsed;
}

/** Brings up the network that `why` (the parameter that needs it) asks for. */
export async function bringUpNetwork(ctx: Context, why: string): Promise<Network> {
  const config = ipConfig(ctx);
  if (config.kind === 'off') throw new BootError(`${why} needs the network, and ip=${ctx.config.ip} turns it off`, { hint: 'give ip=dhcp, or a static address (ip=CLIENT::GATEWAY:NETMASK::DEVICE:none)' });
  const started = ctx.sys.now();
  const device = await waitForInterface(ctx, config.device, ctx.config.rootdelay * 1000);
  await exec(ctx, ['ip', 'link', 'set', 'dev', device, 'up']);
  const mac = ctx.sys.readText(`/sys/class/net/${device}/address`).trim();
  let network: Network;
  if (config.kind === 'dhcp') {
    const timeoutS = ctx.config.dhcpTimeout;
    const lease = await askLease(ctx, device, timeoutS);
    if (lease === null) {
      throw new BootError(`no DHCP server answered on ${device} within ${timeoutS} s (rd.net.timeout.dhcp=${timeoutS})`, {
        hint: `${why} needs the network: check the cable and the DHCP server, or give a static address (ip=CLIENT::GATEWAY:NETMASK::${device}:none)`,
      });
    }
    network = { device, mac, address: lease.address, prefix: lease.prefix, gateway: lease.routers[0] ?? null, dns: lease.dns, how: 'dhcp' };
  } else {
    network = { device, mac, address: config.address, prefix: config.prefix, gateway: config.gateway, dns: config.dns, how: 'static' };
  }
  await exec(ctx, ['ip', 'address', 'add', `${network.address}/${network.prefix}`, 'dev', device]);
  if (network.gateway) await exec(ctx, ['ip', 'route', 'add', 'default', 'via', network.gateway, 'dev', device]);
  ctx.sys.writeText('/etc/resolv.conf', network.dns.map((d) => `nameserver ${d}\n`).join(''));
  ctx.log.info(`network: ${device}: gateway ${network.gateway ?? 'none'}, DNS ${network.dns.join(' ') || 'none'}`);
  ctx.events.emit({ kind: 'network-up', device, address: `${network.address}/${network.prefix}`, how: network.how, ms: Math.round(ctx.sys.now() - started) });
  return network;
}

/**
 * Takes the address and the interface down again: once the image is in
 * RAM the boot needs no network, and the booted system's own networking
 * (ifupdown, networkd, NetworkManager) finds the interface as at a cold start.
 */
export async function releaseNetwork(ctx: Context, network: Network): Promise<void> {
  await exec(ctx, ['ip', 'address', 'flush', 'dev', network.device]);
  await exec(ctx, ['ip', 'link', 'set', 'dev', network.device, 'down']);
  ctx.sys.writeText('/etc/resolv.conf', '');
  ctx.log.info(`network: ${network.device} released, for the booted system to configure`);
}
