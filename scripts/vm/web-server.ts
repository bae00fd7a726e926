// Debian's nginx (unpacked by scripts/setup.mjs, never installed) serving a
// folder on a loopback port, for the network-boot tests: the guest reaches
// it at 10.0.2.2 through QEMU's user network. It can be stopped and started
// again mid-download, and slowed to a rate so that a test can catch a
// download in the middle.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_DIR, VM_CACHE } from './project';
import { type Daemon, freePort, HOST_FROM_GUEST, loopbackDaemon } from './loopback-daemon';

const NGINX = join(PROJECT_DIR, '.cache', 'servers', 'nginx', 'usr', 'sbin', 'nginx');

export interface WebServer extends Daemon {
  /** The URL the guest uses for a file in the served folder. */
  url(file: string): string;
}

export interface ServerOptions {
  /** nginx's limit_rate per connection, such as 3m. */
  readonly rate?: string;
  /** HTTPS with this certificate and key (PEM files). */
  readonly tls?: { readonly cert: string; readonly key: string };
}

/** nginx serving `root` on 127.0.0.1 only. */
export async function startWebServer(name: string, root: string, { rate, tls }: ServerOptions = {}): Promise<WebServer> {
  if (!existsSync(NGINX)) throw new Error(`no nginx at ${NGINX}: run "node scripts/setup.mjs" as root (npm test does), which unpacks Debian's`);
  const port = await freePort();
  const dir = join(VM_CACHE, `${name}.nginx`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/tmp;
  proxy_temp_path ${dir}/tmp;
  fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp;
  scgi_temp_path ${dir}/tmp;
  types { application/octet-stream squashfs; text/plain txt; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port}${tls ? ' ssl' : ''};
    ${tls ? `ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};` : ''}
    root ${root};
    ${rate ? `limit_rate ${rate};` : ''}
  }
}
`,
  );
  const server: WebServer = {
    ...loopbackDaemon('nginx', port, [NGINX, '-p', dir, '-c', conf, '-e', `${dir}/error.log`]),
    url: (file) => `${tls ? 'https' : 'http'}://${HOST_FROM_GUEST}:${port}/${file}`,
  };
  await server.start();
  return server;
}
