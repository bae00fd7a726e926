// root=live:http(s)://… (dracut) or fetch= (live-boot): the network brought
// up, the image downloaded into RAM and checked against rd.live.sha256= or
// the SHA256SUMS beside it on the server (signed, when the image carries a
// key), then the network released; the root stage attaches the copy as it
// does toram's.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { mountOnce } from '../core/mount';
import { parseMeminfo } from '../formats/size';
import { TORAM_DIR } from '../layout/boot-paths';
import { parseSums } from '../storage/medium-checksums';
import { fetchImage, untrusted } from './fetch-image';
import type { HttpRequest } from '../sys/system';
import { CA_BUNDLE } from '../layout/image-paths';
import { bringUpNetwork, releaseNetwork } from './network';
import { checkSignature, SIGNATURE_SUFFIX, signingKeys } from './image-signature';

/** sha256sum's file beside the image, as Debian's and Ubuntu's mirrors publish theirs. */
export const SUMS_NAME = 'SHA256SUMS';

/** The image's URL from root=live:URL or fetch=URL; null when the root is not fetched. */
export function liveUrlOf(config: { readonly root: string | null; readonly fetch: string | null }): string | null {
  if (config.fetch !== null) return config.fetch;
  return config.root?.startsWith('live:http') ? config.root.slice('live:'.length) : null;
}

/** The last part of a URL's path, as the file is named on the server. */
function fileName(url: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
}

/** A small file beside the image (its sums, their signature), whole; null when the server has none (404). */
async function smallFile(ctx: Context, url: string, tls: HttpRequest['tls']): Promise<Buffer | null> {
  let response;
  try {
    response = await ctx.sys.httpGet(url, { idleTimeoutMs: 15_000, ...(tls ? { tls } : {}) });
  } catch (error) {
    const refused = untrusted(url, error as Error, tls);
    if (refused) throw refused;
    throw new BootError(`fetch: ${url}: ${(error as Error).message}`, { hint: 'check that the server is up (the image is checked against this file before use)' });
  }
  const pieces: Uint8Array[] = [];
  for await (const chunk of response.body) pieces.push(chunk);
  if (response.status === 404) return null;
  if (response.status !== 200) throw new BootError(`fetch: ${url}: the server answered ${response.status}`);
  return Buffer.concat(pieces);
}

/**
 * The hash the image must have: rd.live.sha256=, else its line in
 * SHA256SUMS; null when neither is there. When the image carries keys, the
 * sums must be there and signed, and rd.live.sha256= must agree with them.
 */
async function expectedHash(ctx: Context, url: string, tls: HttpRequest['tls']): Promise<{ hash: string; from: string } | null> {
  const keys = signingKeys(ctx);
  const given = ctx.config.liveSha256?.toLowerCase() ?? null;
  if (given !== null && keys.length === 0) return { hash: given, from: 'rd.live.sha256=' };
  const sumsUrl = new URL(SUMS_NAME, url).href;
  const sums = await smallFile(ctx, sumsUrl, tls);
  if (sums === null && keys.length === 0) return null;
  if (sums === null) throw new BootError(`fetch: ${sumsUrl}: the server has none, and this image boots only what its key signed`, { hint: `serve the image's folder as cowboot netboot --sign-key writes it (${SUMS_NAME} and ${SUMS_NAME}${SIGNATURE_SUFFIX} beside the image)` });
  let from = sumsUrl;
  if (keys.length > 0) {
    const signature = await smallFile(ctx, `${sumsUrl}${SIGNATURE_SUFFIX}`, tls);
    if (signature === null) throw new BootError(`fetch: ${sumsUrl}${SIGNATURE_SUFFIX}: the server has none, and this image boots only what its key signed`, { hint: `sign the sums: openssl pkeyutl -sign -rawin -inkey KEY.pem -in ${SUMS_NAME} -out ${SUMS_NAME}${SIGNATURE_SUFFIX}` });
    const signer = checkSignature(sums, signature, keys, sumsUrl);
    ctx.log.info(`fetch: ${SUMS_NAME}${SIGNATURE_SUFFIX} verifies ${sumsUrl} with the key ${signer.name}`);
    from = `${sumsUrl}, signed by ${signer.name}`;
  }
  const name = fileName(url);
  const entry = parseSums(sums.toString('utf8')).entries.find((e) => e.path === name);
  if (!entry) throw new BootError(`fetch: ${sumsUrl} has no line for ${name}`, { hint: `add it: sha256sum ${name} >> ${SUMS_NAME}, in the image's folder on the server` });
  if (given !== null && given !== entry.hash) {
    throw new BootError(`fetch: rd.live.sha256= says ${given}, and ${from} says ${entry.hash} for ${name}`, { hint: 'boot with the rd.live.sha256= of the image the server holds, or without it' });
  }
  return { hash: entry.hash, from: given !== null ? `rd.live.sha256= and ${from}` : from };
}

/** What an https:// server's certificate is checked against: the image's CA bundle (cowboot build --ca), or nothing with rd.live.insecure. */
function tlsFor(ctx: Context, url: string): HttpRequest['tls'] {
  if (!url.startsWith('https:')) return undefined;
  if (ctx.config.liveInsecure) {
    ctx.log.warn(`fetch: rd.live.insecure: the certificate of ${new URL(url).host} is not checked, so anyone on the network path can hand over the image`);
    return { ca: null, insecure: true };
  }
  if (ctx.sys.lstat(CA_BUNDLE)?.kind === 'file') return { ca: ctx.sys.readText(CA_BUNDLE), insecure: false };
  ctx.log.info(`fetch: the image carries no CA bundle (${CA_BUNDLE}, cowboot build --ca), so the root certificates Node carries are trusted`);
  return { ca: null, insecure: false };
}

/** Fetches the image into RAM, checked; returns the copy's path. */
export async function fetchLiveImage(ctx: Context, url: string): Promise<string> {
  const network = await bringUpNetwork(ctx, `the image at ${url}`);
  const tls = tlsFor(ctx, url);
  const expected = await expectedHash(ctx, url, tls);
  if (expected === null) ctx.log.warn(`fetch: ${url} is not checked: there is no ${SUMS_NAME} beside it and no rd.live.sha256= (anything the network hands over boots)`);
  // The tmpfs may hold what the RAM check lets an image have, no more: a server that sends more fills it and fails, not the machine.
  const meminfo = parseMeminfo(ctx.sys.readText('/proc/meminfo'));
  await mountOnce(ctx, { type: 'tmpfs', source: 'fetched', target: TORAM_DIR, options: `mode=0755,size=${Math.max(0, Math.floor(meminfo.available - meminfo.total / 4))}` });
  const name = fileName(url) || 'image';
  const started = ctx.sys.now();
  const fetched = await fetchImage(ctx, url, `${TORAM_DIR}/${name}`, tls);
  ctx.events.emit({ kind: 'image-fetched', url, bytes: fetched.bytes, resumes: fetched.resumes, ms: Math.round(ctx.sys.now() - started) });
  if (expected !== null) {
    if (fetched.sha256 !== expected.hash) {
      throw new BootError(`fetch: the image from ${url} has SHA-256 ${fetched.sha256}, and ${expected.from} says ${expected.hash}`, {
        hint: 'the image on the server is not the one its checksum was made for (changed under it, or damaged on the way): boot nothing from it',
      });
    }
    ctx.log.info(`fetch: SHA-256 ${fetched.sha256} matches ${expected.from}`);
  }
  await releaseNetwork(ctx, network);
  return fetched.path;
}
