// A mount, a move, a bind or a read-only mark is a value: the real system
// makes it one system call; logs, plans and the fakes show it as the command
// that does the same, and the real system runs that command when the call
// fails, so the error is the one users know.

export type MountOp =
  | { readonly kind: 'mount'; readonly type: string; readonly source: string; readonly target: string; readonly options: string }
  | { readonly kind: 'move'; readonly source: string; readonly target: string }
  | { readonly kind: 'bind'; readonly source: string; readonly target: string }
  | { readonly kind: 'setro'; readonly device: string };

export function commandOf(op: MountOp): string[] {
  switch (op.kind) {
    case 'mount':
      return ['mount', '-t', op.type, '-o', op.options, op.source, op.target];
    case 'move':
      return ['mount', '--move', op.source, op.target];
    case 'bind':
      return ['mount', '--bind', op.source, op.target];
    case 'setro':
      return ['blockdev', '--setro', op.device];
  }
}

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

interface MountCall {
  readonly source: string;
  readonly target: string;
  readonly type: string | null;
  readonly flags: number;
  readonly data: string | null;
}

/** mount(2)'s arguments for a mount, a move or a bind: mount(8)'s option words become flags, the rest the data string. */
export function mountCall(op: Exclude<MountOp, { kind: 'setro' }>): MountCall {
  if (op.kind === 'move' || op.kind === 'bind') {
    return { source: op.source, target: op.target, type: null, flags: op.kind === 'move' ? MS.MOVE : MS.BIND, data: null };
  }
  let flags = 0;
  const data: string[] = [];
  for (const word of op.options.split(',')) {
    if (word === '') continue;
    if (word in FLAG_WORDS) flags |= FLAG_WORDS[word]!;
    else if (!DEFAULT_WORDS.has(word)) data.push(word);
  }
  return { source: op.source, target: op.target, type: op.type, flags, data: data.length > 0 ? data.join(',') : null };
}
