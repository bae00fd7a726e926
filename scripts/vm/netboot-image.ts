// The one image the network-boot tests share (built once per run): it
// trusts the netboot test CA alone (--ca), carries the fleet's signing key
// (--add-key), and nbd-client for root=nbd: (--volumes nbd). The keys are
// made with openssl, as a user following live-media.md would.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage } from './image';
import { VM_CACHE } from './project';
import { makeTestCa, type TestCa } from './test-ca';

export interface SigningKey {
  /** The private key (PEM), kept on the server side. */
  readonly key: string;
  /** Its public half (PEM), what --add-key packs; the file's name names it for rd.live.pubkey=. */
  readonly pub: string;
}

const openssl = (args: readonly string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });

/** An Ed25519 key pair named `name`, made once. */
export function makeSigningKey(name: string): SigningKey {
  const dir = join(VM_CACHE, 'signing-keys');
  const made: SigningKey = { key: join(dir, `${name}.key`), pub: join(dir, `${name}.pem`) };
  if (existsSync(made.pub)) return made;
  mkdirSync(dir, { recursive: true });
  openssl(['genpkey', '-algorithm', 'ed25519', '-out', made.key]);
  openssl(['pkey', '-in', made.key, '-pubout', '-out', made.pub]);
  return made;
}

/** Signs `file` as live-media.md says to, writing FILE.sig. */
export function signFile(file: string, key: SigningKey): void {
  openssl(['pkeyutl', '-sign', '-rawin', '-inkey', key.key, '-in', file, '-out', `${file}.sig`]);
}

export interface NetbootImage {
  readonly image: string;
  /** The CA the image trusts, and another it does not. */
  readonly ca: TestCa;
  readonly stranger: TestCa;
  /** The key the image carries (named fleet), and another it does not. */
  readonly fleet: SigningKey;
  readonly forger: SigningKey;
}

export function netbootImage(): NetbootImage {
  const ca = makeTestCa('netboot');
  const stranger = makeTestCa('netboot-stranger');
  const fleet = makeSigningKey('fleet');
  const forger = makeSigningKey('forger');
  const image = buildImage('cowboot-netboot', ['--ca', ca.caCert, '--add-key', fleet.pub, '--volumes', 'nbd']);
  return { image, ca, stranger, fleet, forger };
}
