// DHCP by busybox's udhcpc, with a script of ours that only prints the
// lease: /init configures the interface itself, from the lease, with ip(8).
// udhcpc rather than Node: a DHCP client must send before the interface has
// an address, from a raw packet socket, which Node's dgram cannot open.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { isIpv4, prefixOf } from '../formats/ip-param';
import { DHCP_SCRIPT } from '../layout/image-paths';

/** What udhcpc runs at each DHCP event (packed at DHCP_SCRIPT); `lease KEY=VALUE` lines for bound and renew only. */
export const DHCP_SCRIPT_TEXT = `#!/bin/sh
# udhcpc runs this at each DHCP event; /init reads the lease from its output.
case "$1" in bound|renew) printf 'lease %s=%s\\n' ip "$ip" subnet "$subnet" router "$router" dns "$dns" domain "$domain" lease "$lease" ;; esac
exit 0
`;

export interface Lease {
  readonly address: string;
  readonly prefix: number;
  readonly routers: readonly string[];
  readonly dns: readonly string[];
  readonly domain: string | null;
  readonly seconds: number | null;
}

/** The last lease udhcpc's script printed, or null. */
export function parseLease(stdout: string): Lease | null {
  const values = new Map<string, string>();
  for (const m of stdout.matchAll(/^lease (\w+)=(.*)$/gm)) values.set(m[1]!, m[2]!.trim());
  const address = values.get('ip') ?? '';
  if (!isIpv4(address)) return null;
  const words = (key: string) => (values.get(key) ?? '').split(/\s+/).filter(isIpv4);
  return {
    address,
    prefix: prefixOf(values.get('subnet') ?? '') ?? 24,
    routers: words('router'),
    dns: words('dns'),
    domain: values.get('domain') || null,
    seconds: Number(values.get('lease')) || null,
  };
}

// udhcpc sends a discover every DISCOVER_GAP_S seconds.
const DISCOVER_GAP_S = 2;

/** Asks for a lease on `device` for up to `timeoutS`; null when no server answered. */
export async function askLease(ctx: Context, device: string, timeoutS: number): Promise<Lease | null> {
  const tries = Math.max(1, Math.ceil(timeoutS / DISCOVER_GAP_S));
  // -f -q: in the foreground, and gone once bound; -n: gives up after its tries instead of going to the background.
  const argv = ['udhcpc', '-i', device, '-f', '-q', '-n', '-t', String(tries), '-T', String(DISCOVER_GAP_S), '-A', '1', '-s', DHCP_SCRIPT];
  const result = await ctx.sys.run(argv);
  ctx.log.debug(`${argv.join(' ')}: exit ${result.status}; ${result.stderr.trim()}`);
  if (result.status !== 0) return null;
  const lease = parseLease(result.stdout);
  if (lease === null) throw new BootError(`udhcpc on ${device} said it was bound, but printed no lease: ${result.stdout.trim() || 'nothing'}`, { hint: `its script is ${DHCP_SCRIPT} in the image` });
  return lease;
}
