// An image downloaded into RAM over HTTP(S), as dracut's livenet and
// live-boot's fetch= do, with what they lack: a RAM check before the first
// byte, progress on the console, and a server that goes away mid-download
// resumed where it stopped (Range), with backoff, instead of starting over.
// The SHA-256 is computed as the bytes arrive.

import { createHash, type Hash } from 'node:crypto';
import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { formatBytes, formatMiB, parseMeminfo } from '../formats/size';
import type { HttpRequest, HttpResponse } from '../sys/system';
import { toramFits } from '../storage/toram';

/** Consecutive failures without a byte gained before the download is given up; the waits between double from 1 s. */
export const FETCH_ATTEMPTS = 6;
const FIRST_BACKOFF_MS = 1000;
const IDLE_TIMEOUT_MS = 15_000;
const PROGRESS_EVERY_MS = 2000;
// Appended in pieces this large: a file opened per piece, not per network read.
const WRITE_BYTES = 1 << 20;

export interface Fetched {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly resumes: number;
}

/** The total size a response announces: Content-Range's for a 206, Content-Length's for a 200; null when it does not say. */
export function totalOf(response: HttpResponse): number | null {
  const range = /\/(\d+)$/.exec(response.headers['content-range'] ?? '');
  if (response.status === 206 && range) return Number(range[1]);
  const length = Number(response.headers['content-length']);
  return response.status === 200 && Number.isSafeInteger(length) && length >= 0 ? length : null;
}

function checkRoom(ctx: Context, url: string, total: number): void {
  const meminfo = parseMeminfo(ctx.sys.readText('/proc/meminfo'));
  // What must stay free after the download is what toram leaves: a quarter of RAM.
  if (toramFits(total, meminfo)) return;
  throw new BootError(`${url} is ${formatBytes(total)}, and RAM has ${formatBytes(meminfo.available)} free of ${formatBytes(meminfo.total)}: the image and a quarter of RAM for the running system do not fit`, {
    hint: 'give the machine more RAM, or a smaller image',
  });
}

// Node's codes for a certificate it does not trust: asking again cannot change the answer.
const UNTRUSTED = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/;

/** The failure for an https:// server whose certificate is not trusted, or null for any other error. */
export function untrusted(url: string, error: Error & { code?: string }, tls: HttpRequest['tls']): BootError | null {
  if (!UNTRUSTED.test(error.code ?? '')) return null;
  // Node's advice to run it with --use-system-ca is no help at boot: the image's bundle is what is trusted.
  const reason = error.message.replace(/; if the root CA is installed locally.*$/s, '');
  return new BootError(`fetch: ${url}: the server's certificate is not trusted: ${reason}`, {
    hint: tls?.ca ? 'the image trusts the CAs cowboot build --ca packed (the build machine\'s by default): build it with --ca naming the CA that signed the server\'s certificate, or boot with rd.live.insecure to skip the check' : 'build the image with --ca naming the CA that signed the server\'s certificate',
  });
}

/** Downloads `url` into `path` (a file in a tmpfs); fails with the URL and the reason. */
export async function fetchImage(ctx: Context, url: string, path: string, tls?: HttpRequest['tls']): Promise<Fetched> {
  let got = 0;
  let total: number | null = null;
  let hash: Hash = createHash('sha256');
  let resumes = 0;
  let failures = 0;
  let lastError = '';
  const started = ctx.sys.now();
  let shown = started;
  ctx.sys.writeText(path, '');
  for (;;) {
    if (failures > 0) {
      if (failures >= FETCH_ATTEMPTS) {
        throw new BootError(`fetch: ${url}: ${lastError}; gave up after ${FETCH_ATTEMPTS} tries in a row with no progress, at ${formatMiB(got)}${total === null ? '' : ` of ${formatMiB(total)}`}`, {
          hint: 'check that the server is up and serves that path; the boot resumes where it stopped as long as the server answers within the tries',
        });
      }
      const wait = FIRST_BACKOFF_MS * 2 ** (failures - 1);
      ctx.log.warn(`fetch: ${lastError}; trying again in ${wait / 1000} s (${failures} of ${FETCH_ATTEMPTS - 1})`);
      await ctx.sys.sleep(wait);
    }
    let response: HttpResponse;
    try {
      response = await ctx.sys.httpGet(url, { headers: got > 0 ? { range: `bytes=${got}-` } : {}, idleTimeoutMs: IDLE_TIMEOUT_MS, ...(tls ? { tls } : {}) });
    } catch (error) {
      const refused = untrusted(url, error as Error, tls);
      if (refused) throw refused;
      lastError = (error as Error).message;
      failures++;
      continue;
    }
    if (response.status === 200 && got > 0) {
      // The server ignored the Range: what it sends is the image from its first byte.
      ctx.log.warn(`fetch: ${url}: the server cannot resume (no Range support), so the image is fetched again from the start`);
      got = 0;
      hash = createHash('sha256');
      ctx.sys.writeText(path, '');
    } else if (response.status === 206) {
      const start = Number(/bytes (\d+)-/.exec(response.headers['content-range'] ?? '')?.[1]);
      if (start !== got) throw new BootError(`fetch: ${url}: asked to resume at byte ${got}, the server sent from ${response.headers['content-range'] ?? 'an unknown place'}`);
      resumes++;
      ctx.log.info(`fetch: resuming at ${formatMiB(got)}`);
    } else if (response.status !== 200) {
      // 4xx and 5xx: what the server says will not change by asking again (a 503 aside, which the backoff covers).
      lastError = `the server answered ${response.status}`;
      if (response.status >= 500) {
        failures++;
        continue;
      }
      throw new BootError(`fetch: ${url}: the server answered ${response.status}`, { hint: 'check the URL (root=live:… or fetch=) and that the server serves that file' });
    }
    const announced = totalOf(response);
    if (total === null && announced !== null) {
      total = announced;
      checkRoom(ctx, url, total);
      ctx.log.info(`fetch: ${url}: ${formatMiB(total)}`);
    }
    const pending: Uint8Array[] = [];
    let pendingBytes = 0;
    const flush = () => {
      if (pendingBytes === 0) return;
      ctx.sys.appendBytes(path, Buffer.concat(pending));
      pending.length = 0;
      pendingBytes = 0;
    };
    try {
      for await (const chunk of response.body) {
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        got += chunk.length;
        failures = 0;
        if (pendingBytes >= WRITE_BYTES) flush();
        const now = ctx.sys.now();
        if (now - shown >= PROGRESS_EVERY_MS) {
          shown = now;
          ctx.log.info(progressLine(got, total, now - started));
        }
      }
      flush();
    } catch (error) {
      flush();
      lastError = `the download broke at ${formatMiB(got)}: ${(error as Error).message}`;
      failures++;
      continue;
    }
    if (total !== null && got < total) {
      lastError = `the server closed the connection at ${formatMiB(got)} of ${formatMiB(total)}`;
      failures++;
      continue;
    }
    return { path, bytes: got, sha256: hash.digest('hex'), resumes };
  }
}

/** "fetch: 12.0 of 48.0 MiB (25%), 6.1 MiB/s, 6 s left" */
export function progressLine(got: number, total: number | null, ms: number): string {
  const rate = ms > 0 ? got / (ms / 1000) : 0;
  const perSecond = `${formatMiB(rate)}/s`;
  if (total === null || total === 0) return `fetch: ${formatMiB(got)}, ${perSecond}`;
  const left = rate > 0 ? Math.ceil((total - got) / rate) : null;
  return `fetch: ${formatMiB(got)} of ${formatMiB(total)} (${Math.floor((got / total) * 100)}%), ${perSecond}${left === null ? '' : `, ${left} s left`}`;
}
