// An NFS root as dracut and the kernel name it: root=nfs:SERVER:/PATH[:OPTIONS]
// (or nfs4:, dracut's), and root=/dev/nfs with nfsroot=SERVER:/PATH[,OPTIONS]
// (the kernel's). OPTIONS are the kernel's NFS mount options, such as
// port=2049 or vers=4.2. cowboot mounts the export read-only over NFSv4,
// which needs no rpcbind or mountd round trips, and names the server
// itself: it does not take it from DHCP's next-server as the kernel may.

import { isHostName, isPort } from './host-name';

export interface NfsRoot {
  readonly server: string;
  readonly path: string;
  /** The server's NFS port: the kernel's port= option, or NFS's own. */
  readonly port: number;
  /** The mount options given, port= among them, as the kernel takes them. */
  readonly options: readonly string[];
}

export const NFS_PORT = 2049;

type Parsed = NfsRoot | { readonly error: string };

const PATH = /^\/[^\s,:]*$/;
const OPTION = /^[a-z][a-z0-9_]*(?:=[^\s,=]+)?$/;

function checked(server: string, path: string, options: readonly string[]): Parsed {
  if (server === '') return { error: 'the server is missing: cowboot does not take it from DHCP, so name it, as SERVER:/PATH' };
  if (!isHostName(server)) return { error: `${server} is not a host name or IPv4 address` };
  if (!PATH.test(path)) return { error: `${path || '(nothing)'} is not an absolute path on the server (such as /srv/fleet, without spaces, commas or colons)` };
  let port = NFS_PORT;
  for (const option of options) {
    if (!OPTION.test(option)) return { error: `${option || '(nothing)'} is not an NFS mount option (WORD or WORD=VALUE, such as port=2049)` };
    const [name, value = ''] = option.split('=');
    if (name === 'rw') return { error: 'rw: cowboot mounts an NFS root read-only and keeps every change in RAM, above it; drop rw' };
    const olderNfs = name === 'v2' || name === 'v3' || ((name === 'vers' || name === 'nfsvers') && !/^4(?:\.[012])?$/.test(value));
    if (olderNfs) return { error: `${option}: cowboot mounts NFS roots over NFSv4 (vers=4, 4.0, 4.1 or 4.2), which needs neither rpcbind nor mountd` };
    if (name === 'port') {
      if (!isPort(value)) return { error: `${option}: ${value || '(nothing)'} is not a port (1 to 65535; NFS's is ${NFS_PORT})` };
      port = Number(value);
    }
  }
  return { server, path, port, options };
}

/** Splits SERVER:/PATH at the colon before the path (a server-less /PATH leaves the server empty). */
function serverAndRest(text: string): [string, string] {
  if (text.startsWith('/')) return ['', text];
  const colon = text.indexOf(':');
  return colon < 0 ? [text, ''] : [text.slice(0, colon), text.slice(colon + 1)];
}

/** root=nfs:SERVER:/PATH[:OPTIONS] or root=nfs4:…, as dracut writes it. */
export function parseNfsRoot(text: string): Parsed {
  const rest = text.slice(text.indexOf(':') + 1);
  const [server, pathAndOptions] = serverAndRest(rest);
  const [path = '', options, ...more] = pathAndOptions.split(':');
  if (more.length > 0) return { error: 'expected nfs:SERVER:/PATH or nfs:SERVER:/PATH:OPTIONS (the options separated by commas)' };
  return checked(server, path, options === undefined ? [] : options.split(','));
}

/** nfsroot=SERVER:/PATH[,OPTIONS], the kernel's form (its Documentation/admin-guide/nfs/nfsroot.rst). */
export function parseNfsrootParam(text: string): Parsed {
  const [server, pathAndOptions] = serverAndRest(text);
  const [path = '', ...options] = pathAndOptions.split(',');
  return checked(server, path, options);
}

/** The root's server and path, as messages and events name them. */
export function showNfsRoot(spec: NfsRoot): string {
  return `${spec.server}:${spec.path}${spec.port === NFS_PORT ? '' : ` (port ${spec.port})`}`;
}
