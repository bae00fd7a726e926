// Some commands /init runs are single system calls. Under TCG each spawned
// process costs tens of milliseconds, so the real system makes the call
// itself when it can (see real-system.ts); these parse our own argv shapes.

export const MS = {
  RDONLY: 1, NOSUID: 2, NODEV: 4, NOEXEC: 8, SYNCHRONOUS: 16, NOATIME: 1024, NODIRATIME: 2048,
  BIND: 4096, MOVE: 8192, RELATIME: 1 << 21, STRICTATIME: 1 << 24,
} as const;

const FLAG_WORDS: Readonly<Record<string, number>> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  noatime: MS.NOATIME, nodiratime: MS.NODIRATIME, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
};
// Words that only clear a flag or say "the default".
const DEFAULT_WORDS = new Set(['rw', 'defaults', 'suid', 'dev', 'exec', 'async', 'atime', 'diratime']);

export interface MountCall {
  readonly source: string;
  readonly target: string;
  readonly type: string | null;
  readonly flags: number;
  readonly data: string | null;
}

/** mount(2) arguments for `mount -t T -o O SRC DST`, `mount --move A B`, `mount --bind A B`; null for anything else. */
export function mountCall(argv: readonly string[]): MountCall | null {
  if (argv[0] !== 'mount') return null;
  if (argv.length === 4 && (argv[1] === '--move' || argv[1] === '--bind')) {
    return { source: argv[2]!, target: argv[3]!, type: null, flags: argv[1] === '--move' ? MS.MOVE : MS.BIND, data: null };
  }
  if (argv.length !== 7 || argv[1] !== '-t' || argv[3] !== '-o') return null;
  let flags = 0;
  const data: string[] = [];
  for (const word of argv[4]!.split(',')) {
    if (word === '') continue;
    if (word in FLAG_WORDS) flags |= FLAG_WORDS[word]!;
    else if (!DEFAULT_WORDS.has(word)) data.push(word);
  }
  return { source: argv[5]!, target: argv[6]!, type: argv[2]!, flags, data: data.length > 0 ? data.join(',') : null };
}

/** The device of `blockdev --setro DEV`, or null. */
export function setroDevice(argv: readonly string[]): string | null {
  return argv.length === 3 && argv[0] === 'blockdev' && argv[1] === '--setro' ? argv[2]! : null;
}
