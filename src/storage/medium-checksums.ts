// verify: before a live medium is used, every file its sha256sum.txt lists
// is read and checked, as live-boot's verify-checksums and archiso's
// checksum do; a progress line shows on the console as it reads.

import type { Context } from '../core/context';
import { BootError } from '../core/errors';
import { formatMiB as mib } from '../formats/size';

/** The checksum file at the top of the medium, in the format sha256sum writes. */
export const SUMS_FILE = 'sha256sum.txt';

export interface SumEntry {
  readonly hash: string;
  /** Relative to the medium's top, without a leading ./ */
  readonly path: string;
}

/** sha256sum's lines: "HASH  PATH" (text mode) or "HASH *PATH" (binary mode). */
export function parseSums(text: string): { entries: SumEntry[]; bad: number[] } {
  const entries: SumEntry[] = [];
  const bad: number[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line);
    if (m) entries.push({ hash: m[1]!.toLowerCase(), path: m[2]!.replace(/^(\.\/|\/)+/, '') });
    else bad.push(i + 1);
  });
  return { entries, bad };
}

const PROGRESS_EVERY_MS = 1000;

export async function verifyMedium(ctx: Context, top: string): Promise<void> {
  const sums = `${top}/${SUMS_FILE}`;
  if (ctx.sys.lstat(sums)?.kind !== 'file') {
    throw new BootError(`verify: the medium has no ${SUMS_FILE} (looked for ${sums})`, {
      hint: `make it at the top of the medium with: find . -type f ! -name ${SUMS_FILE} -exec sha256sum {} + > ${SUMS_FILE}; or boot without verify`,
    });
  }
  const { entries, bad } = parseSums(ctx.sys.readText(sums));
  if (bad.length > 0 || entries.length === 0) {
    throw new BootError(`verify: ${SUMS_FILE} is not in the format sha256sum writes${bad.length ? ` (lines ${bad.join(', ')})` : ' (no lines)'}`, {
      hint: 'each line is a SHA-256 in hex, two spaces (or a space and *), and a path',
    });
  }
  const sizes = entries.map((e) => {
    const info = ctx.sys.lstat(`${top}/${e.path}`);
    if (info?.kind !== 'file') throw new BootError(`verify: ${e.path} is listed in ${SUMS_FILE} but not on the medium`);
    return info.size;
  });
  const total = sizes.reduce((a, b) => a + b, 0);
  const started = ctx.sys.now();
  let done = 0;
  let shown = started;
  for (const [i, entry] of entries.entries()) {
    const found = await ctx.sys.sha256(`${top}/${entry.path}`, (bytes) => {
      if (ctx.sys.now() - shown < PROGRESS_EVERY_MS) return;
      shown = ctx.sys.now();
      ctx.sys.writeConsole(`cowboot: verify: ${mib(done + bytes)} of ${mib(total)} read (${Math.floor((100 * (done + bytes)) / total)}%)\n`);
    });
    if (found !== entry.hash) {
      throw new BootError(`verify: ${entry.path} does not match ${SUMS_FILE}: the medium is damaged or was changed`, {
        hint: `expected ${entry.hash}, found ${found}`,
      });
    }
    done += sizes[i]!;
  }
  const ms = Math.max(1, Math.round(ctx.sys.now() - started));
  ctx.log.info(`verify: ${entries.length} file${entries.length === 1 ? '' : 's'} (${mib(total)}) match ${SUMS_FILE}, read in ${ms} ms (${mib((total * 1000) / ms)}/s)`);
}
