// Sizes as users write them for tmpfs and live-boot: 512M, 2G, 1024K, a
// number of bytes, or a share of RAM such as 25%.

export type Size = { readonly kind: 'bytes'; readonly bytes: number } | { readonly kind: 'percent'; readonly percent: number };

const UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

export function parseSize(text: string): Size | null {
  const percent = /^(\d{1,3})%$/.exec(text);
  if (percent) {
    const value = Number(percent[1]);
    return value >= 1 && value <= 100 ? { kind: 'percent', percent: value } : null;
  }
  const match = /^(\d{1,15})([KMGT]?)(i?B)?$/i.exec(text);
  if (!match) return null;
  const bytes = Number(match[1]) * UNITS[(match[2] ?? '').toUpperCase()]!;
  return bytes > 0 && Number.isSafeInteger(bytes) ? { kind: 'bytes', bytes } : null;
}

export function sizeInBytes(size: Size, ramBytes: number): number {
  return size.kind === 'bytes' ? size.bytes : Math.floor((ramBytes * size.percent) / 100);
}

export function showSize(size: Size): string {
  return size.kind === 'percent' ? `${size.percent}%` : formatBytes(size.bytes);
}

/** Exact sizes as cowsize= takes them (512M); others in MiB with one decimal. */
/** Bytes in MiB with one decimal, for progress lines and sizes that need no exact unit. */
export function formatMiB(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

export function formatBytes(bytes: number): string {
  for (const [unit, factor] of [['G', 1024 ** 3], ['M', 1024 ** 2]] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return bytes >= 1024 * 1024 ? formatMiB(bytes) : `${bytes} bytes`;
}

/** MemTotal and MemAvailable from /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): { total: number; available: number } {
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { total: kib('MemTotal'), available: kib('MemAvailable') };
}
