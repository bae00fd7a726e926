// The cowboot command: runs the subcommand named (commands.ts), and says
// what went wrong. Run from a clone by bin/cowboot.mjs, or installed as
// /usr/local/sbin/cowboot.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BuildError } from '../builder/host';
import { COMMANDS } from './commands';
import { CommandError } from './errors';

function help(): string {
  const rows = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${c.about}`);
  return `usage: cowboot COMMAND [OPTIONS]\n\n${rows.join('\n')}\n`;
}

export async function main(argv: string[]): Promise<number> {
  // `cowboot cat IMAGE PATH | head` closes the pipe early: not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`cowboot: error: unknown command ${name}\n${help()}`);
    return 2;
  }
  try {
    process.stdout.write(await command.run(args));
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof BuildError || error instanceof CommandError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`cowboot: error: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

// Run as a program (the installed copy, or bin/cowboot.mjs's bundle), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2));
}
