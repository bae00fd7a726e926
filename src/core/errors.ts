// A boot failure says what was tried (a command, a device, a path), what went
// wrong, and where it helps, what the user can do about it.

export class BootError extends Error {
  constructor(
    message: string,
    readonly detail: { readonly command?: readonly string[]; readonly hint?: string } = {},
  ) {
    super(message);
    this.name = 'BootError';
  }
}

/** A command as a user would type it, for messages (never run through a shell). */
export function showCommand(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`)).join(' ');
}
