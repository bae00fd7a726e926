// A subcommand's row: what the command runs (commands.ts), and what help and
// cowboot(8) say of it.

export interface Command {
  readonly usage: string;
  readonly about: string;
  run(args: string[]): Promise<string | Uint8Array>;
}
