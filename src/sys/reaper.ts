// PID 1 inherits every orphan and must collect it when it dies, or zombies
// pile up. Node only waits for the children it spawned itself, so the others
// are found in /proc and collected one pid at a time.

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
}

/** Parses /proc/PID/stat; the command name may hold spaces and parentheses. */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  const [state, ppid] = text.slice(close + 2).split(' ');
  if (close === -1 || !Number.isInteger(pid) || !state || ppid === undefined) return null;
  return { pid, state, ppid: Number(ppid) };
}

/**
 * Zombies whose parent is PID 1 and that Node did not spawn: taking the exit
 * status of one of Node's own children would leave it waiting for ever.
 */
export function orphanZombies(stats: readonly ProcStat[], ownChildren: ReadonlySet<number>): number[] {
  return stats.filter((s) => s.state === 'Z' && s.ppid === 1 && !ownChildren.has(s.pid)).map((s) => s.pid);
}
