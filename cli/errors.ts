/** A mistake in what the user asked for, or a system the command cannot work on: the message says which, and what to do. */
export class CommandError extends Error {
  override name = 'CommandError';
}
