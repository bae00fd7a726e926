// The man pages, written from the tables they describe: cowboot(8) from the
// command's rows, cowboot(7) and cowboot.json(5) from the settings rows and
// their docs. scripts/man.ts writes them into man/; a unit test fails when
// man/ is not what these functions write.

import { KEYS, type Key, ROWS } from '../../src/config/settings';
import type { Command } from '../command';
import { INIT_ARGUMENTS, PARAMETER_DOCS, type Peers } from './parameters';

const PEER_NAMES: Record<keyof Peers, string> = { dracut: 'dracut', liveBoot: 'live-boot', casper: 'casper', archiso: 'archiso', booster: 'booster' };

/** Text for roff: backslashes and hyphens escaped, `code` in bold, no line starting as a request. */
function roff(text: string): string {
  return text
    .replaceAll('\\', '\\e')
    .replaceAll('-', '\\-')
    .replace(/`([^`]*)`/g, '\\fB$1\\fR')
    .split('\n')
    .map((line) => (/^[.']/.test(line) ? `\\&${line}` : line))
    .join('\n');
}

const header = (name: string, section: number, what: string): string[] => [`.TH ${name.toUpperCase()} ${section} "" "cowboot" "cowboot"`, '.SH NAME', `${roff(name)} \\- ${roff(what)}`];

function defaultOf(key: Key): string {
  const row = ROWS[key];
  const value: unknown = row.default;
  const doc = PARAMETER_DOCS[key];
  if (value === null) return 'unset' in doc ? doc.unset : 'unset';
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : `\`${value.join(',')}\``;
  return typeof value === 'number' ? String(value) : `\`${String(value)}\``;
}

function peersLine(peers: Peers): string {
  const known = (Object.keys(PEER_NAMES) as (keyof Peers)[]).filter((peer) => peers[peer] !== undefined).map((peer) => `${PEER_NAMES[peer]}: ${peers[peer]}`);
  return known.length === 0 ? 'Other tools: none has it.' : `Other tools: ${known.join('; ')}.`;
}

/** cowboot(7): the kernel command line. */
export function parametersPage(): string {
  const entries = KEYS.filter((key) => !ROWS[key].fileOnly).flatMap((key) => {
    const row = ROWS[key];
    const doc = PARAMETER_DOCS[key];
    const names = [row.param, ...(row.aliases ?? [])].map((name) => `\\fB${roff(name)}\\fR${doc.value ? `\\fI${roff(doc.value)}\\fR` : ''}`);
    const valid = row.bare === '1' ? '' : ` Valid: ${roff(row.expected)}.`;
    return ['.TP', names.join(', '), `${roff(doc.meaning)}.${valid} Default: ${roff(defaultOf(key))}.`, '.br', roff(peersLine(doc.peers))];
  });
  return [
    ...header('cowboot', 7, "the kernel command line of cowboot's initramfs"),
    '.SH DESCRIPTION',
    roff('The image\'s config file (see `cowboot.json`(5)) sets the defaults, and the kernel command line wins. cowboot ignores parameters that are not its own. Every value of its own is checked before anything else happens: a bad one stops the boot with a message naming the parameter, the value and what is valid, then the failure policy applies (`rd.shell`, `rd.emergency`).'),
    '.PP',
    roff('Each entry ends with the nearest parameter of dracut (with its dmsquash-live module), Debian\'s live-boot, Ubuntu\'s casper, Arch\'s archiso and booster, where they have one. Where a parameter has other names, the last one given wins.'),
    '.SH PARAMETERS',
    ...entries,
    '.TP',
    INIT_ARGUMENTS.forms.map((form) => `\\fB${form}\\fR`).join(', '),
    `${roff(INIT_ARGUMENTS.meaning)}.`,
    '.br',
    roff(peersLine(INIT_ARGUMENTS.peers)),
    '.SH SEE ALSO',
    '\\fBcowboot\\fR(8), \\fBcowboot.json\\fR(5), \\fBbootparam\\fR(7), \\fBdracut.cmdline\\fR(7)',
    '',
  ].join('\n');
}

/** The JSON type a row's form takes, found by asking the form. */
function jsonType(key: Key): string {
  const row = ROWS[key];
  const takes = (json: unknown) => row.json(json, row.expected).ok;
  const type = takes(true) ? 'true or false' : takes(1) ? 'a number' : takes(['a']) ? 'a list of strings' : 'a string';
  return takes(null) ? `${type}, or null` : type;
}

/** cowboot.json(5): the config file in the image. */
export function configPage(): string {
  const entries = KEYS.flatMap((key) => {
    const row = ROWS[key];
    const valid = row.bare === '1' ? '' : ` Valid: ${roff(row.expected)}.`;
    return ['.TP', `\\fB"${roff(row.param)}"\\fR: ${roff(jsonType(key))}`, `${roff(PARAMETER_DOCS[key].meaning)}.${valid} Default: ${roff(defaultOf(key))}.${row.fileOnly ? ' Only in the file: the boot loader cannot set it.' : ''}`];
  });
  return [
    ...header('cowboot.json', 5, "the defaults of a cowboot image"),
    '.SH SYNOPSIS',
    roff('`cowboot build --config` FILE; `/etc/cowboot/config.json` for `cowboot install`; `/etc/cowboot.json` in the image.'),
    '.SH DESCRIPTION',
    roff('A JSON object with the names of the kernel command line (see `cowboot`(7)). Every key is optional; JSON null stands for the default. The file is validated when the image is built: an unknown key or a bad value stops the build with a message. The kernel command line wins over the file.'),
    '.SH KEYS',
    ...entries,
    '.SH EXAMPLE',
    '.nf',
    roff('{ "root": "/dev/vda", "overlay": "overlayfs", "modules": ["virtio_blk"], "rootdelay": 10, "quiet": true }'),
    '.fi',
    '.SH SEE ALSO',
    '\\fBcowboot\\fR(7), \\fBcowboot\\fR(8)',
    '',
  ].join('\n');
}

/** cowboot(8): the command and its subcommands. */
export function commandPage(commands: Readonly<Record<string, Command>>): string {
  // A long usage is wrapped in the source; man wraps it again.
  const entries = Object.values(commands).flatMap((command) => ['.TP', `\\fB${roff(command.usage.replace(/\s*\n\s*/g, ' '))}\\fR`, `${roff(command.about)}.`]);
  return [
    ...header('cowboot', 8, 'build, install and inspect initramfs images that boot a read-only root with its changes in RAM'),
    '.SH SYNOPSIS',
    '\\fBcowboot\\fR \\fICOMMAND\\fR [\\fIOPTIONS\\fR]',
    '.SH DESCRIPTION',
    roff('cowboot runs as PID 1 in an initramfs and boots a machine from a read-only medium (an installed disk, a partition, or a live CD or USB stick holding a squashfs image) with a copy-on-write layer in RAM. This command builds its images, freezes an installed system (`install`), and shows what a boot would do (`plan`).'),
    '.SH COMMANDS',
    ...entries,
    '.SH SEE ALSO',
    '\\fBcowboot\\fR(7), \\fBcowboot.json\\fR(5)',
    '',
  ].join('\n');
}
