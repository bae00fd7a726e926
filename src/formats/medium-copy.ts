// A file cowboot rewrites in the union (the fstab, the crypttab) carries the
// medium's own at its end, so that a kept layer (persist=), which holds the
// file as the last boot wrote it, still gives each boot the medium's.

const MARK = (file: string) => `# cowboot: the ${file} on the medium, as it was:`;
const PREFIX = '#| ';

/** The medium's text: `text` itself, or the copy a file written by cowboot carries. */
export function mediumText(text: string, file: string): string {
  const lines = text.split('\n');
  const at = lines.indexOf(MARK(file));
  if (at === -1) return text;
  return lines.slice(at + 1).filter((l) => l.startsWith(PREFIX)).map((l) => l.slice(PREFIX.length)).join('\n');
}

/** The lines that carry `medium` at the end of a rewritten file. */
export function carriedMedium(medium: string, file: string): string[] {
  return [MARK(file), ...medium.split('\n').map((l) => `${PREFIX}${l}`)];
}
