// Certificate authorities for the HTTPS tests, made with openssl: each
// signs a certificate for the address the guest reaches the host at
// (10.0.2.2, as an IP SAN), which nginx serves.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VM_CACHE } from './project';
import { HOST_FROM_GUEST } from './loopback-daemon';

export interface TestCa {
  /** The CA's certificate (PEM): what an image built with --ca trusts. */
  readonly caCert: string;
  /** The server's certificate and key, signed by the CA. */
  readonly serverCert: string;
  readonly serverKey: string;
}

const openssl = (args: readonly string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** A CA named `name` and a server certificate it signed, made once. */
export function makeTestCa(name: string): TestCa {
  const dir = join(VM_CACHE, `${name}.ca`);
  const ca: TestCa = { caCert: join(dir, 'ca.pem'), serverCert: join(dir, 'server.pem'), serverKey: join(dir, 'server.key') };
  if (existsSync(ca.serverCert)) return ca;
  mkdirSync(dir, { recursive: true });
  const caKey = join(dir, 'ca.key');
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', ca.caCert, '-days', '3650', '-subj', `/CN=${name} test CA`]);
  const csr = join(dir, 'server.csr');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', ca.serverKey, '-out', csr, '-subj', `/CN=${HOST_FROM_GUEST}`]);
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, `subjectAltName=IP:${HOST_FROM_GUEST}\nbasicConstraints=CA:FALSE\n`);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.caCert, '-CAkey', caKey, '-CAcreateserial', '-out', ca.serverCert, '-days', '3650', '-extfile', ext]);
  return ca;
}
