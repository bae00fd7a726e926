// root=nbd:HOST:PORT[:EXPORT], as LTSP writes it, and dracut's
// root=nbd:HOST:PORT/EXPORT: the server's address, its port, and the named
// export (nbd-server's section name; none: the server's default export).

import { isHostName, isPort } from './host-name';

export interface NbdRoot {
  readonly host: string;
  readonly port: number;
  readonly name: string | null;
}

const EXPORT = /^[A-Za-z0-9._@+-]{1,128}$/;

export function parseNbdRoot(text: string): NbdRoot | { readonly error: string } {
  const rest = text.slice('nbd:'.length);
  const [host = '', portAndName = '', name, ...more] = rest.split(':');
  const [port = '', slashName] = portAndName.split('/');
  const exportName = slashName ?? name ?? null;
  if (more.length > 0 || (slashName !== undefined && name !== undefined)) return { error: 'expected nbd:HOST:PORT, nbd:HOST:PORT:EXPORT or nbd:HOST:PORT/EXPORT' };
  if (!isHostName(host)) return { error: `${host || '(nothing)'} is not a host name or IPv4 address` };
  if (!isPort(port)) return { error: `${port || '(nothing)'} is not a port (1 to 65535; nbd-server's is 10809)` };
  if (exportName !== null && !EXPORT.test(exportName)) return { error: `${exportName || '(nothing)'} is not an export name (letters, digits and ._@+-)` };
  return { host, port: Number(port), name: exportName };
}
