// cowboot netboot DIR: the folder a user serves as it is, for a fleet that
// boots over the network. Each version of the kernel, the image and the
// squashfs goes into a folder of its own, named by their hash and never
// changed once written (written under another name, then renamed); the
// iPXE scripts and the NBD exports are switched last. A client that booted
// an older version keeps its files, as LTSP's users ask.

import { createHash, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { sha256File } from '../../builder/file-hash';
import { parseNbdRoot } from '../../src/formats/nbd-root';
import { SIGNATURE_SUFFIX } from '../../src/net/image-signature';
import { SUMS_NAME as SUMS } from '../../src/net/live-image';
import { CommandError } from '../errors';
import { dnsmasqConfig, IMAGE_FILE, INITRD_FILE, ipxeScript, KERNEL_FILE, nbdExports, type NetbootVersion, nginxConfig } from './server-config';

export const NETBOOT_USAGE = 'cowboot netboot DIR --image FILE --initrd FILE --url URL [--kernel FILE] [--sign-key FILE] [--nbd HOST:PORT] [--append PARAMS]';

export const HTTP_SCRIPT = 'boot.ipxe';
export const NBD_SCRIPT = 'boot-nbd.ipxe';
export const SERVER_DIR = 'server';

export interface NetbootRequest {
  readonly dir: string;
  readonly image: string;
  readonly initrd: string;
  readonly kernel: string;
  /** Where DIR is served over HTTP, ending in /. */
  readonly url: string;
  readonly signKey: KeyObject | null;
  /** HOST:PORT of the nbd-server that exports the versions. */
  readonly nbd: string | null;
  readonly append: string;
}

function existing(option: string, path: string | undefined, what: string): string {
  if (path === undefined) throw new CommandError(`--${option} is required: ${what}\nusage: ${NETBOOT_USAGE}`);
  if (!existsSync(path) || !statSync(path).isFile()) throw new CommandError(`--${option} ${path}: no such file (${what})`);
  return resolve(path);
}

function signingKey(path: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(path));
  } catch (error) {
    throw new CommandError(`--sign-key ${path}: ${(error as Error).message} (expected an Ed25519 private key in PEM: openssl genpkey -algorithm ed25519)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CommandError(`--sign-key ${path}: a ${key.asymmetricKeyType} key; expected Ed25519 (openssl genpkey -algorithm ed25519)`);
  return key;
}

export function parseNetbootArgs(args: string[]): NetbootRequest {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { image: { type: 'string' }, initrd: { type: 'string' }, kernel: { type: 'string' }, url: { type: 'string' }, 'sign-key': { type: 'string' }, nbd: { type: 'string' }, append: { type: 'string', default: '' } },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new CommandError(`${(error as Error).message}\nusage: ${NETBOOT_USAGE}`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new CommandError(`expected one DIR, the folder to write\nusage: ${NETBOOT_USAGE}`);
  if (values.url === undefined) throw new CommandError(`--url is required: where DIR will be served over HTTP, such as http://server/cowboot/\nusage: ${NETBOOT_USAGE}`);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new CommandError(`--url ${values.url} is not valid: expected an http:// or https:// URL, such as http://server/cowboot/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CommandError(`--url ${values.url} is not valid: expected an http:// or https:// URL (iPXE and the image fetch both use it)`);
  if (values.nbd !== undefined && 'error' in parseNbdRoot(`nbd:${values.nbd}`)) throw new CommandError(`--nbd ${values.nbd} is not valid: expected HOST:PORT of the nbd-server, such as server:10809`);
  return {
    dir: resolve(positionals[0]!),
    image: existing('image', values.image, 'the squashfs the clients boot'),
    initrd: existing('initrd', values.initrd, 'the image cowboot build made for the kernel (with --volumes nbd for --nbd, --add-key for a signing key)'),
    kernel: existing('kernel', values.kernel ?? `/boot/vmlinuz-${release()}`, 'the kernel the clients boot'),
    url: url.href.endsWith('/') ? url.href : `${url.href}/`,
    signKey: values['sign-key'] === undefined ? null : signingKey(values['sign-key']),
    nbd: values.nbd ?? null,
    append: values.append,
  };
}

/** Writes `text` beside `path` and renames it over: a reader sees the old file or the new, never half. */
function replaceFile(path: string, text: string | Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** The version folder for these files, written unless it is there already (the same files, by their hash). */
function writeVersion(request: NetbootRequest, progress: (line: string) => void): NetbootVersion {
  const hashes = { [KERNEL_FILE]: sha256File(request.kernel), [INITRD_FILE]: sha256File(request.initrd), [IMAGE_FILE]: sha256File(request.image) };
  const sums = Object.entries(hashes).map(([file, hash]) => `${hash}  ${file}\n`).join('');
  const version: NetbootVersion = { name: `v-${createHash('sha256').update(sums).digest('hex').slice(0, 12)}`, imageSha256: hashes[IMAGE_FILE] };
  const folder = join(request.dir, version.name);
  if (existsSync(folder)) {
    progress(`${version.name}: these files are there already`);
    return version;
  }
  const temporary = join(request.dir, `.${version.name}.${process.pid}.tmp`);
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary);
  copyFileSync(request.kernel, join(temporary, KERNEL_FILE));
  copyFileSync(request.initrd, join(temporary, INITRD_FILE));
  copyFileSync(request.image, join(temporary, IMAGE_FILE));
  writeFileSync(join(temporary, SUMS), sums);
  if (request.signKey) writeFileSync(join(temporary, `${SUMS}${SIGNATURE_SUFFIX}`), sign(null, Buffer.from(sums), request.signKey));
  renameSync(temporary, folder);
  progress(`${version.name}: written${request.signKey ? ', its SHA256SUMS signed' : ''}`);
  return version;
}

/** The versions in DIR, oldest first (by the time their folder was written). */
function versionsIn(dir: string): NetbootVersion[] {
  return readdirSync(dir)
    .filter((name) => /^v-[0-9a-f]{12}$/.test(name) && existsSync(join(dir, name, SUMS)))
    .map((name) => ({ name, mtime: statSync(join(dir, name)).mtimeMs, sums: readFileSync(join(dir, name, SUMS), 'utf8') }))
    .sort((a, b) => a.mtime - b.mtime)
    .map(({ name, sums }) => ({ name, imageSha256: new RegExp(`^([0-9a-f]{64})  ${IMAGE_FILE}$`, 'm').exec(sums)?.[1] ?? '' }));
}

/** Writes DIR; returns what to tell the user: the version, and the servers' configuration lines. */
export function writeNetboot(request: NetbootRequest, progress: (line: string) => void): string {
  mkdirSync(join(request.dir, SERVER_DIR), { recursive: true });
  const version = writeVersion(request, progress);
  const scripts = [HTTP_SCRIPT, ...(request.nbd ? [NBD_SCRIPT] : [])];
  const configs: Record<string, string> = {
    'nginx.conf': nginxConfig(request.url, request.dir),
    'dnsmasq.conf': dnsmasqConfig(request.url, scripts),
    ...(request.nbd ? { 'nbd-server.conf': nbdExports(versionsIn(request.dir), request.dir) } : {}),
  };
  for (const [file, text] of Object.entries(configs)) replaceFile(join(request.dir, SERVER_DIR, file), text);
  // Last: until now a client is sent to the version before.
  const common = { url: request.url, version, append: request.append };
  replaceFile(join(request.dir, HTTP_SCRIPT), ipxeScript({ ...common, root: { kind: 'http' } }));
  if (request.nbd) replaceFile(join(request.dir, NBD_SCRIPT), ipxeScript({ ...common, root: { kind: 'nbd', server: request.nbd } }));
  return [
    `${request.dir}: clients now boot ${version.name} (${scripts.map((s) => `${request.url}${s}`).join(', ')}); older versions stay for the clients that booted them, to delete once those are off.`,
    ...Object.keys(configs).map((file) => `\n# ${join(request.dir, SERVER_DIR, file)}\n${readFileSync(join(request.dir, SERVER_DIR, file), 'utf8')}`),
    ...(request.nbd ? [`# then: cp ${join(request.dir, SERVER_DIR, 'nbd-server.conf')} /etc/nbd-server/conf.d/cowboot.conf and systemctl reload nbd-server, at each new version\n`] : []),
  ].join('\n');
}
