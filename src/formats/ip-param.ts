// ip= as the kernel (Documentation/admin-guide/nfs/nfsroot.rst) and dracut
// take it: a method alone (ip=dhcp), dracut's INTERFACE:METHOD, or the
// kernel's colon-separated fields,
//   ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF:DNS0:DNS1
// IPv4 only: the fetch is over IPv4, and dracut's dhcp6/auto6 are refused by
// name rather than taken for something else.

export type IpConfig =
  | { readonly kind: 'off' }
  | { readonly kind: 'dhcp'; readonly device: string | null }
  | {
      readonly kind: 'static';
      readonly address: string;
      /** The prefix length the netmask stands for (255.255.255.0 is 24). */
      readonly prefix: number;
      readonly gateway: string | null;
      readonly hostname: string | null;
      readonly device: string | null;
      readonly dns: readonly string[];
    };

const DHCP_WORDS = ['dhcp', 'on', 'any', 'both', 'bootp'];
const OFF_WORDS = ['off', 'none'];
const IPV6_WORDS = ['dhcp6', 'auto6', 'either6', 'link6', 'ibft', 'single-dhcp', 'rarp'];
const DEVICE = /^[A-Za-z0-9_.:-]{1,15}$/;

export function isIpv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255);
}

/** 255.255.255.0 → 24; null for a mask whose ones are not contiguous. */
export function prefixOf(netmask: string): number | null {
  if (!isIpv4(netmask)) return null;
  const bits = netmask.split('.').map((p) => Number(p).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : null;
}

/** The value parsed, or a sentence saying what is wrong with it (the caller names the parameter). */
export function parseIpParam(text: string): IpConfig | { readonly error: string } {
  if (OFF_WORDS.includes(text)) return { kind: 'off' };
  if (DHCP_WORDS.includes(text)) return { kind: 'dhcp', device: null };
  if (IPV6_WORDS.includes(text)) return { error: `${text} is not done here: only IPv4, by DHCP or static` };
  const fields = text.split(':');
  // dracut's INTERFACE:METHOD[:MTU[:MAC]]
  if (fields.length >= 2 && !/^[\d.]*$/.test(fields[0]!)) {
    const [device, method] = fields as [string, string];
    if (!DEVICE.test(device)) return { error: `${device} is not an interface name` };
    if (DHCP_WORDS.includes(method)) return { kind: 'dhcp', device };
    return { error: `${method} after the interface is not a method taken here (dhcp, on, any)` };
  }
  const [client = '', , gateway = '', netmask = '', hostname = '', device = '', autoconf = '', dns0 = '', dns1 = ''] = fields;
  if (device !== '' && !DEVICE.test(device)) return { error: `${device} is not an interface name` };
  if (DHCP_WORDS.includes(autoconf) || (client === '' && autoconf === '')) return { kind: 'dhcp', device: device || null };
  if (IPV6_WORDS.includes(autoconf)) return { error: `${autoconf} is not done here: only IPv4, by DHCP or static` };
  if (!OFF_WORDS.includes(autoconf) && autoconf !== '') return { error: `${autoconf} is not an autoconf method (dhcp, on, any, off, none)` };
  if (!isIpv4(client)) return { error: `${client || 'an empty client address'} is not an IPv4 address` };
  // The kernel would guess the netmask from the address's class, which no network uses any more: it must be given.
  if (netmask === '') return { error: `the static address ${client} needs its netmask (the fourth field), such as 255.255.255.0` };
  const prefix = prefixOf(netmask);
  if (prefix === null) return { error: `${netmask} is not a netmask such as 255.255.255.0` };
  for (const address of [gateway, dns0, dns1]) if (address !== '' && !isIpv4(address)) return { error: `${address} is not an IPv4 address` };
  return { kind: 'static', address: client, prefix, gateway: gateway || null, hostname: hostname || null, device: device || null, dns: [dns0, dns1].filter((d) => d !== '') };
}
