// The boot log: every record is kept (it is handed to the new root), sent to
// /dev/kmsg so dmesg has it, and shown on the console according to `quiet`.

export type Level = 'error' | 'warn' | 'info' | 'debug';

// syslog priorities, as /dev/kmsg expects them in "<N>".
const PRIORITY: Record<Level, number> = { error: 3, warn: 4, info: 6, debug: 7 };

interface LogRecord {
  /** Milliseconds since /init started. */
  readonly at: number;
  readonly level: Level;
  readonly text: string;
}

interface LogSinks {
  now(): number;
  writeConsole(text: string): void;
  writeKmsg(record: string): boolean;
}

interface ConsolePolicy {
  readonly quiet: boolean;
  /** rd.debug: debug records too. */
  readonly debug: boolean;
  /**
   * The kernel's console_loglevel: the kernel itself echoes kmsg records with
   * a priority below it to the console, and we must not print those twice.
   */
  readonly kernelEchoBelow: number;
}

const TAG = 'cowboot';

interface Entry {
  readonly record: LogRecord;
  inKmsg: boolean;
  consoleDecided: boolean;
}

export class Log {
  private readonly entries: Entry[] = [];
  private readonly started: number;
  // Until the command line is read we cannot know whether `quiet` is set, so
  // console output waits, warnings and errors excepted.
  private policy: ConsolePolicy | null = null;

  constructor(private readonly sinks: LogSinks) {
    this.started = sinks.now();
  }

  get records(): readonly LogRecord[] {
    return this.entries.map((e) => e.record);
  }

  error(text: string): void {
    this.add('error', text);
  }
  warn(text: string): void {
    this.add('warn', text);
  }
  info(text: string): void {
    this.add('info', text);
  }
  debug(text: string): void {
    this.add('debug', text);
  }

  setConsolePolicy(policy: ConsolePolicy): void {
    this.policy = policy;
    this.flush();
  }

  /** Whether the kernel shows a kmsg record of this level on the console by itself: a writer of both would say it twice. */
  kernelEchoes(level: Level): boolean {
    return this.policy !== null && PRIORITY[level] < this.policy.kernelEchoBelow;
  }

  /** The whole log as text, one record a line, for /run/initramfs/init.log. */
  text(): string {
    return this.records.map((r) => `${(r.at / 1000).toFixed(3).padStart(8)} ${r.level.padEnd(5)} ${r.text}\n`).join('');
  }

  private add(level: Level, text: string): void {
    const at = this.sinks.now() - this.started;
    for (const line of text.split('\n')) this.entries.push({ record: { at, level, text: line }, inKmsg: false, consoleDecided: false });
    this.flush();
  }

  private flush(): void {
    // Records written before devtmpfs gives us /dev/kmsg go there once it can be opened, in order.
    for (const entry of this.entries) {
      if (entry.inKmsg) continue;
      if (!this.sinks.writeKmsg(`<${PRIORITY[entry.record.level]}>${TAG}: ${entry.record.text}\n`)) break;
      entry.inKmsg = true;
    }
    for (const entry of this.entries) {
      if (entry.consoleDecided) continue;
      const show = this.consoleDecision(entry);
      if (show === 'later') continue;
      entry.consoleDecided = true;
      if (show === 'print') this.sinks.writeConsole(`${TAG}: ${entry.record.text}\n`);
    }
  }

  private consoleDecision(entry: Entry): 'print' | 'skip' | 'later' {
    const priority = PRIORITY[entry.record.level];
    const urgent = priority <= PRIORITY.warn;
    const policy = this.policy;
    if (!policy) return urgent ? 'print' : 'later';
    const wanted = urgent || (!policy.quiet && priority <= PRIORITY.info) || policy.debug;
    const echoedByKernel = entry.inKmsg && this.kernelEchoes(entry.record.level);
    return wanted && !echoedByKernel ? 'print' : 'skip';
  }
}
