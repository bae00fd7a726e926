// The image's /init when the runtime cannot be /init itself: a busybox sh
// script that prepares what the runtime needs, then becomes it, still as
// PID 1. Bun aborts without /proc; a runtime packed as a squashfs image
// (--pack-runtime squashfs) needs /dev, the loop and squashfs modules, and
// its mount. If sh exits, the kernel panics, so every failure ends as the
// bundle's own do: the reason on the console and in the kernel log, then a
// shell (exit tries again), or rd.emergency where no shell is allowed. The
// rescue password is checked only by the bundle, so with one set this
// script offers no shell at all.

import type { Config } from '../src/config';
import { HOT_MODULE, HOT_PAGES, HOT_PAGES_PACKED, INIT_BUNDLE, RUNTIME_DIR, RUNTIME_IMAGE, SHELL, TOOL_DIRS } from '../src/layout/image-paths';

export interface PreInitFacts {
  /** The runtime's path in the image, as the bundle's shebang names it. */
  readonly runtime: string;
  /**
   * Present when the runtime is packed as an image: the modules to load for
   * it, dependencies first; and whether the image carries its hot pages
   * (HOT_PAGES_PACKED, mapped at start by HOT_MODULE: hot-pages.ts).
   */
  readonly runtimeImage: { readonly modules: readonly { readonly name: string; readonly path: string }[]; readonly hotPages: boolean } | null;
  /** The image's defaults for what a failure does; the kernel command line overrides them, as in the bundle. */
  readonly config: Pick<Config, 'shell' | 'emergency' | 'panic' | 'rescuePassword'>;
}

// Quoted for sh: the builder's own paths and names only, but quoted all the same.
const q = (text: string) => `'${text.replaceAll("'", `'\\''`)}'`;

function mountRuntime(facts: PreInitFacts): string {
  if (facts.runtimeImage === null) return '';
  const modules = facts.runtimeImage.modules
    .map(({ name, path }) => `  grep -q '^${name} ' /proc/modules || insmod ${q(path)} || { why="could not load the ${name} module the runtime's image needs"; return 1; }`)
    .join('\n');
  return `  mounted /dev || mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev || { why='could not mount /dev'; return 1; }
${modules}
  mounted ${RUNTIME_DIR} || mount -t squashfs -o ro,loop ${RUNTIME_IMAGE} ${RUNTIME_DIR} || { why='could not mount the runtime image ${RUNTIME_IMAGE} on ${RUNTIME_DIR} (it may be damaged: rebuild the image)'; return 1; }
${facts.runtimeImage.hotPages ? hotPages() : ''}`;
}

// Unpacked once, in RAM; a failure costs the start's speed, never the boot.
function hotPages(): string {
  return `  if [ -e ${HOT_PAGES_PACKED} ]; then
    lz4 -d -q -f ${HOT_PAGES_PACKED} ${HOT_PAGES} || { say 'could not unpack ${HOT_PAGES_PACKED}; the runtime starts from its image alone'; rm -f ${HOT_PAGES}; }
    rm -f ${HOT_PAGES_PACKED}
  fi
  [ -e ${HOT_PAGES} ] && hot=${HOT_MODULE}
`;
}

// The bundle drops it from what it hands the root's init (main.ts).
const HOT_EXPORT = `# The loader reads it; /init leaves it out of the root's init's environment.
[ -z "$hot" ] || export LD_AUDIT="$hot"
`;

// The check runs the way the boot will: with the hot pages where they are
// used, and if the runtime does not start with them, without.
function versionCheck(facts: PreInitFacts): string {
  const check = `${facts.runtime} --version >/dev/null || { why="the runtime ${facts.runtime} does not start: its --version ended with status $? (it may be damaged: rebuild the image)"; return 1; }`;
  if (!facts.runtimeImage?.hotPages) return `  ${check}
`;
  return `  if [ -n "$hot" ] && ! LD_AUDIT=$hot ${facts.runtime} --version >/dev/null; then
    say "the runtime does not start with its hot pages (${HOT_PAGES}); it starts from its image alone"
    hot=
    rm -f ${HOT_PAGES}
  fi
  [ -n "$hot" ] || ${check}
`;
}

export function preInitScript(facts: PreInitFacts): string {
  const { config } = facts;
  return `#!${SHELL}
# cowboot's first step, written by cowboot build: readies what the runtime
# needs, then becomes it as PID 1. It must never exit: the kernel panics.
export PATH=${TOOL_DIRS.join(':')}
shell=${config.shell ? 1 : 0} emergency=${config.emergency} panic=${config.panic ?? ''} password=${config.rescuePassword === null ? 0 : 1} why= hot=

say() {
  echo "cowboot: $*"
  echo "<3>cowboot: $*" 2>/dev/null >/dev/kmsg
}

# The settings the bundle would read, from the kernel command line.
read_cmdline() {
  [ -r /proc/cmdline ] || return 0
  set -f
  for word in $(cat /proc/cmdline); do
    case "$word" in
      rd.shell|rd.shell=1) shell=1 ;;
      rd.shell=0) shell=0 ;;
      rd.emergency=reboot|rd.emergency=poweroff|rd.emergency=halt) emergency=\${word#*=} ;;
      rd.rescue-password=*) password=1 ;;
      panic=*) panic=\${word#panic=} ;;
    esac
  done
  set +f
}

# Debian's busybox has no mountpoint applet.
mounted() {
  grep -q "^[^ ]* $1 " /proc/mounts
}

start() {
  [ -e /proc/mounts ] || mount -t proc -o nosuid,nodev,noexec proc /proc || { why='could not mount /proc'; return 1; }
${mountRuntime(facts)}  # A failed exec would end the shell, and with it the boot.
  [ -x ${facts.runtime} ] || { why='the runtime ${facts.runtime} is missing or not executable'; return 1; }
  # So would a runtime that dies as it starts, PID 1 then. --version runs its
  # loader, libraries and start-up code for about 10 ms; a whole start (-e 0)
  # would cost 0.13 s of every boot.
${versionCheck(facts)}}

rescue() {
  say "$why; the runtime cannot start, so the boot stops here"
  read_cmdline
  if [ "$shell" = 1 ] && [ "$password" = 0 ]; then
    printf '\\n*** cowboot rescue shell (before the runtime) ***\\n%s\\nFix what is wrong, then type "exit": cowboot tries again.\\n\\n' "$why"
    setsid cttyhack ${SHELL} -l || sleep 5
    return
  fi
  case "$panic" in
    0) say "rd.shell=0 or a rescue password allows no shell; panic=0: waiting for ever"; while :; do sleep 3600; done ;;
    ''|*[!0-9-]*) delay=5 ;;
    -*) delay=0 ;;
    *) delay=$panic ;;
  esac
  say "rd.shell=0 or a rescue password allows no shell; $emergency in $delay s (rd.emergency=$emergency, panic=\${panic:-unset})"
  sleep "$delay"
  sync
  "$emergency" -f
  say "$emergency -f did not take effect; waiting for ever"
  while :; do sleep 3600; done
}

until start; do rescue; done
# The runtime gets the kernel's environment as the kernel gave it, for the
# root's init after it: not what sh adds.
unset PATH PWD OLDPWD SHLVL
${facts.runtimeImage?.hotPages ? HOT_EXPORT : ''}exec ${facts.runtime} ${INIT_BUNDLE} "$@"
`;
}
