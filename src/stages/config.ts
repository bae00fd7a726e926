import { parseCmdline } from '../formats/cmdline';
import { type Config, type ConfigProblem, configFromCmdline, configFromText, describeProblem, initArgsWithoutOurFlags, mergeConfig } from '../config';
import type { Context } from '../core/context';
import type { Stage } from './results';
import { BootError } from '../core/errors';
import { IMAGE_CONFIG, IMAGE_UNIONS } from '../layout/image-paths';
import { mountOnce } from '../core/mount';
import { UNION_NAMES, type UnionName } from '../config/union-names';
import { parseCarried, whyNotCarried } from '../union/carried';
import { apiFilesystem } from '../core/api-mounts';

// The kernel rate-limits /dev/kmsg writers to a burst of 10 lines; a boot log
// is longer. Lifted while we log, restored at handoff (systemd does the same).
export const DEVKMSG_SYSCTL = '/proc/sys/kernel/printk_devkmsg';

function readImageConfig(ctx: Context): { values: Partial<Config>; problems: ConfigProblem[] } {
  let text: string;
  try {
    text = ctx.sys.readText(IMAGE_CONFIG);
  } catch {
    return { values: {}, problems: [] };
  }
  return configFromText(text, IMAGE_CONFIG);
}

// An image without the file (the unit tests' machines) carries every kind.
function carriedKinds(ctx: Context): readonly UnionName[] {
  let text: string;
  try {
    text = ctx.sys.readText(IMAGE_UNIONS);
  } catch {
    return UNION_NAMES;
  }
  const kinds = parseCarried(text);
  if (kinds === null) throw new BootError(`${IMAGE_UNIONS} is not a list of overlay= kinds: ${text.trim()}`, { hint: 'the image is damaged: build it again' });
  return kinds;
}

/** overlay= naming a kind this image was built without is invalid like any other value, with the reason. */
function uncarriedProblem(overlay: UnionName, carried: readonly UnionName[], source: string): ConfigProblem | null {
  const why = whyNotCarried(overlay, carried, 'image');
  return why === null ? null : { source, param: 'overlay', value: overlay, expected: `one of ${carried.join(', ')}: ${why}` };
}

function kernelConsoleLoglevel(ctx: Context): number {
  const first = Number(ctx.sys.readText('/proc/sys/kernel/printk').trim().split(/\s+/)[0]);
  return Number.isInteger(first) ? first : 7;
}

/** The setting before ours, to restore at handoff; null where we changed nothing. */
function liftKmsgRatelimit(ctx: Context): string | null {
  try {
    const before = ctx.sys.readText(DEVKMSG_SYSCTL).trim();
    ctx.sys.writeText(DEVKMSG_SYSCTL, 'on\n');
    return before;
  } catch {
    // printk.devkmsg= on the command line locks the setting; then it is the user's choice, and not ours to restore.
    return null;
  }
}

export const loadConfig: Stage<'config'> = {
  name: 'config',
  async run(ctx) {
    // The command line is in /proc, and /dev/kmsg must be there before the
    // console policy is set, or lines printed now would be echoed again by
    // the kernel once kmsg opens. The other mounts wait for their stage.
    for (const target of ['/proc', '/dev'] as const) await mountOnce(ctx, apiFilesystem(target));
    const devkmsgBefore = liftKmsgRatelimit(ctx);
    const image = readImageConfig(ctx);
    const cmdlineText = ctx.sys.readText('/proc/cmdline').trim();
    const cmdline = configFromCmdline(parseCmdline(cmdlineText));
    // The valid values count even when others are wrong: rd.shell=0 beside a
    // typo must still keep the shell closed.
    ctx.config = mergeConfig(image.values, cmdline.values);
    ctx.log.setConsolePolicy({ quiet: ctx.config.quiet, debug: ctx.config.debug, kernelEchoBelow: kernelConsoleLoglevel(ctx) });
    const overlaySource = cmdline.values.overlay !== undefined ? 'command line' : image.values.overlay !== undefined ? IMAGE_CONFIG : 'the default';
    const uncarried = uncarriedProblem(ctx.config.overlay, carriedKinds(ctx), overlaySource);
    const problems = [...image.problems, ...cmdline.problems, ...(uncarried ? [uncarried] : [])];
    if (problems.length > 0) {
      throw new BootError(problems.map(describeProblem).join('\n'), { hint: `the kernel command line was: ${cmdlineText}` });
    }
    // The seed's runlevel 5 when the kernel passed init no arguments.
    const given = initArgsWithoutOurFlags(ctx.kernel.args);
    const initArgs = given.length > 0 ? given : ['5'];
    ctx.log.info(`command line: ${cmdlineText}`);
    ctx.log.info(`config: ${JSON.stringify(ctx.config)}; init arguments: ${initArgs.join(' ')}`);
    return { initArgs, devkmsgBefore };
  },
};
