// The fill warnings. A RAM layer that fills up stops the system's writes
// (docs/unions.md says how, for each union), and nothing told users it was
// coming. At the handoff /init starts a small busybox script that lives as
// long as the booted system: every FILL_CHECK_SECONDS it measures each RAM
// layer, and as one crosses a step of FILL_STEPS it says so once on the
// console and in the kernel's log, where journald keeps it.
//
// It runs chrooted into the new root, so its paths stay valid through
// switch_root, and it works from /run/initramfs, a tmpfs: after its start
// it walks nothing under "/", which under overlay=unionfs would ask the
// daemon (boot.md: a walk that waits on a stopped daemon never ends).

import type { Context } from '../core/context';
import type { Config } from '../config';
import { mountedTargets } from '../core/mount';
import { copyHandoverTools, HANDOVER_BUSYBOX, HANDOVER_DMSETUP, type HandoverTools } from '../core/handover-tools';
import { COW_DIR, DM_NAME, FILL_WATCH, HANDOVER_DIR, MOUNTS_DIR } from '../layout/boot-paths';
import { NEW_ROOT } from '../layout/image-paths';
import { formatMiB } from '../formats/size';
import { FILL_CHECK_SECONDS, FILL_STEPS, RAM_LAYERS, tmpfsFull } from './fill';
import { UNION_KINDS } from '.';

export type LayerSource = { readonly kind: 'tmpfs'; readonly path: string } | { readonly kind: 'snapshot'; readonly name: string };

export interface WatchedLayer {
  readonly what: string;
  readonly source: LayerSource;
  readonly whenFull: string;
}

/**
 * The layers in RAM: the union's (unless persist= keeps it on a disk) and
 * the other filesystems' tmpfs, where one is mounted.
 */
export function watchedLayers(config: Config, mounted: (path: string) => boolean): WatchedLayer[] {
  const layers: WatchedLayer[] = [];
  const ram = UNION_KINDS[config.overlay].ramLayer;
  if (ram !== null && config.persist === null) {
    switch (ram.holds) {
      case 'snapshot':
        layers.push({ what: RAM_LAYERS.snapshot, source: { kind: 'snapshot', name: DM_NAME }, whenFull: ram.whenFull });
        break;
      case 'cow tmpfs':
        if (mounted(COW_DIR)) layers.push({ what: RAM_LAYERS.root, source: { kind: 'tmpfs', path: COW_DIR }, whenFull: ram.whenFull });
        break;
    }
  }
  if (mounted(MOUNTS_DIR)) layers.push({ what: RAM_LAYERS.mounts, source: { kind: 'tmpfs', path: MOUNTS_DIR }, whenFull: tmpfsFull('those filesystems') });
  return layers;
}

const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
/** A path under HANDOVER_DIR, relative to it: the script's working folder. */
const local = (path: string) => path.slice(HANDOVER_DIR.length + 1);

function usageCommand(source: LayerSource): string {
  switch (source.kind) {
    case 'tmpfs':
      return `usage_tmpfs ${quote(local(source.path))}`;
    case 'snapshot':
      return `usage_snapshot ${quote(source.name)}`;
  }
}

/** dmsetup as copied, run by its own loader: the new root's, if it has one, is not the image's. */
function dmsetupCommand(tools: HandoverTools): string {
  const how = tools.dmsetupLoader;
  return how ? `${local(how.loader)} --library-path ${how.libraryPath.split(':').map(local).join(':')} ${local(HANDOVER_DMSETUP)}` : local(HANDOVER_DMSETUP);
}

/** The script; each layer is checked in turn, its step kept in level<N>. */
export function fillWatchScript(layers: readonly WatchedLayer[], tools: HandoverTools, kernelEchoes: boolean): string {
  const steps = FILL_STEPS.map((step, i) => ({ ...step, level: i + 1 }));
  const rearm = [...steps].reverse().map((s) => `  [ "$level" -ge ${s.level} ] && [ "$pct" -lt ${s.rearmBelow} ] && level=${s.level - 1}`);
  const reached = steps.map((s) => `  [ "$pct" -ge ${s.percent} ] && step=${s.level}`);
  const checks = layers.map((layer, n) => `  check ${n} ${quote(layer.what)} ${quote(layer.whenFull)} ${usageCommand(layer.source)}`);
  return `#!/bin/sh
# Written at boot by cowboot (src/union/fill-watch.ts); runs chrooted in the
# booted root until shutdown. Says on the console and in the kernel's log
# when a RAM layer crosses ${steps.map((s) => `${s.percent}%`).join(', ')} of its size.
exec 3>/dev/console 4>/dev/kmsg </dev/null >/dev/null 2>&1
cd ${HANDOVER_DIR} || exit 1
bb=${local(HANDOVER_BUSYBOX)}
say() {
  echo "<4>cowboot: warning: $1" >&4${kernelEchoes ? '' : `
  echo "cowboot: warning: $1" >&3`}
}
mib() { echo "$(($1 / 1048576)).$(($1 * 10 / 1048576 % 10)) MiB"; }
# Each prints "USED TOTAL" in bytes, or "full" for a snapshot that overflowed.
usage_tmpfs() {
  $bb stat -f -c '%b %f %S' "$1" | { read -r b f s && echo "$(((b - f) * s)) $((b * s))"; }
}
usage_snapshot() {
  s=$(${dmsetupCommand(tools)} status "$1" 2>/dev/null) || return 1
  case "$s" in
  *Overflow* | *Invalid*) echo full ;;
  *" snapshot "*)
    set -- $s
    echo "$((\${4%/*} * 512)) $((\${4#*/} * 512))"
    ;;
  esac
}
# $1: the layer's number, $2: what it holds, $3: what a full one means; then how to measure it.
check() {
  n=$1 what=$2 full=$3
  shift 3
  u=$("$@") || return
  [ -n "$u" ] || return
  eval "level=\\$level$n"
  if [ "$u" = full ]; then
    pct=100
  else
    set -- $u
    [ "$2" -gt 0 ] || return
    pct=$(($1 * 100 / $2))
  fi
${rearm.join('\n')}
  step=0
${reached.join('\n')}
  if [ "$step" -gt "$level" ]; then
    level=$step
    if [ "$u" = full ]; then
      say "$what: full (the snapshot overflowed); $full"
    elif [ "$pct" -ge 100 ]; then
      say "$what: full ($(mib "$2") in RAM); $full"
    else
      say "$what: $pct% full ($(mib "$1") of $(mib "$2") in RAM); when full, $full"
    fi
  fi
  eval "level$n=$level"
}
${layers.map((_, n) => `level${n}=0`).join('\n')}
while :; do
${checks.join('\n')}
  $bb sleep ${FILL_CHECK_SECONDS}
done &
`;
}

/**
 * Starts the watcher; a failure is a warning, as the boot goes on without
 * it. After move-mounts: /run is in the new root. `kernelEchoes`: the kernel
 * shows on the console what the watcher writes to /dev/kmsg.
 */
export async function startFillWatch(ctx: Context, kernelEchoes: boolean): Promise<void> {
  const targets = mountedTargets(ctx);
  const layers = watchedLayers(ctx.config, (path) => targets.has(`${NEW_ROOT}${path}`));
  if (layers.length === 0 || ctx.sys.lstat(`${NEW_ROOT}${FILL_WATCH}`) !== null) return;
  const tools = await copyHandoverTools(ctx, NEW_ROOT, layers.some((l) => l.source.kind === 'snapshot'));
  const script = fillWatchScript(layers, tools, kernelEchoes);
  ctx.sys.writeText(`${NEW_ROOT}${FILL_WATCH}`, script, 0o755);
  const argv = ['chroot', NEW_ROOT, HANDOVER_BUSYBOX, 'sh', FILL_WATCH];
  const result = await ctx.sys.run(argv);
  if (result.status !== 0) {
    ctx.log.warn(`${argv.join(' ')} exited with status ${result.status} (${result.stderr.trim()}): no warnings as the RAM layers fill`);
    return;
  }
  const at = FILL_STEPS.map((s) => `${s.percent}%`).join(', ');
  ctx.log.info(`fill warnings: ${FILL_WATCH} checks ${layers.map((l) => l.what).join(' and ')} every ${FILL_CHECK_SECONDS} s, and warns at ${at}; it keeps ${formatMiB(tools.bytes + script.length)} in RAM`);
}
