// The volumes plan mode imagines under the root when the command line names
// them, so that the plan shows each assembly step: a LUKS container
// (rd.luks.uuid=, rd.luks.name=) on the root's disk, and an LVM physical
// volume (in the container, or on the disk) when the root is a logical
// volume (root=/dev/mapper/VG-LV, /dev/VG/LV, or rd.lvm.lv=). cryptsetup
// and lvm "make" their devices in the imagined machine as they would.

import { type Cmdline, allParams, lastParam } from '../formats/cmdline';
import { luksNameList, luksUuidList } from '../config/parsers';
import type { MemoryNode } from '../sys/memory';
import type { RunResult } from '../sys/system';
import { mapperName, volumeOfMapperName } from '../storage/lvm';

interface LogicalVolume {
  readonly vg: string;
  readonly lv: string;
}

/** The logical volume a root path names: /dev/mapper/VG-LV (dashes doubled in each part) or /dev/VG/LV. */
export function volumeOfPath(path: string): LogicalVolume | null {
  const mapper = /^\/dev\/mapper\/(.+)$/.exec(path);
  if (mapper) return volumeOfMapperName(mapper[1]!);
  const plain = /^\/dev\/([^/]+)\/([^/]+)$/.exec(path);
  return plain && !['disk', 'mapper', 'md'].includes(plain[1]!) ? { vg: plain[1]!, lv: plain[2]! } : null;
}

function luksHeader(uuid: string): Uint8Array {
  const b = new Uint8Array(0x10400);
  b.set(Buffer.from('LUKS\xba\xbe', 'latin1'), 0);
  b[7] = 2;
  b.set(Buffer.from(uuid, 'latin1'), 168);
  return b;
}

function pvLabel(): Uint8Array {
  const b = new Uint8Array(0x10400);
  b.set(Buffer.from('LABELONE', 'latin1'), 512);
  b[512 + 0x14] = 32;
  b.set(Buffer.from('LVM2 001', 'latin1'), 512 + 0x18);
  b.set(Buffer.from('PlanPVplanPVplanPVplanPVplanPV01', 'latin1'), 512 + 32);
  return b;
}

export interface ImaginedVolumes {
  /** What the root's disk holds in place of the root's filesystem; null: no volume is named. */
  readonly disk: Uint8Array | null;
  readonly assumptions: readonly string[];
  /** The result of a volume tool's command, with the devices it makes added to `files`; null for other commands. */
  react(argv: readonly string[], files: Map<string, MemoryNode>): RunResult | null;
}

const ok = (stdout = ''): RunResult => ({ status: 0, signal: null, stdout, stderr: '' });

/** `root`: the bytes the root's filesystem starts with; `rootPath`: root= when it is a path. */
export function imagineVolumes(cmdline: Cmdline, root: Uint8Array, rootPath: string | null): ImaginedVolumes {
  const named = [...allParams(cmdline, 'rd.luks.name').flatMap((p) => luksNameList(p.value ?? '') ?? []).map((pair) => pair.slice(0, pair.lastIndexOf('='))), ...allParams(cmdline, 'rd.luks.uuid').flatMap((p) => luksUuidList(p.value ?? '') ?? [])];
  const luks = lastParam(cmdline, 'rd.luks')?.value === '0' ? undefined : named[0];
  const lvText = allParams(cmdline, 'rd.lvm.lv')[0]?.value?.split(',')[0];
  const volume = (rootPath ? volumeOfPath(rootPath) : null) ?? (lvText?.includes('/') ? { vg: lvText.split('/')[0]!, lv: lvText.split('/')[1]! } : null);
  const lvm = lastParam(cmdline, 'rd.lvm')?.value === '0' ? null : volume;
  let active = false;
  let dm = 0;
  const node = (bytes: Uint8Array, name: string, files: Map<string, MemoryNode>) => {
    const dev = `dm-${dm++}`;
    const file: MemoryNode = { kind: 'file', mode: 0o600, text: Buffer.from(bytes).toString('latin1') };
    files.set(`/dev/${dev}`, file);
    files.set(`/dev/mapper/${name}`, file);
    files.set(`/sys/class/block/${dev}/size`, { kind: 'file', mode: 0o644, text: '4194304\n' });
    files.set(`/sys/class/block/${dev}/dm/name`, { kind: 'file', mode: 0o644, text: `${name}\n` });
  };
  const assumptions = [
    ...(luks ? [`the root's disk holds the LUKS container ${luks}${lvm ? ', which holds an LVM physical volume' : ''}, and a passphrase that opens it is typed`] : []),
    ...(lvm ? [`${lvm.vg}/${lvm.lv} is a linear logical volume${luks ? '' : " on the root's disk"}, holding the root`] : []),
  ];
  return {
    disk: luks ? luksHeader(luks) : lvm ? pvLabel() : null,
    assumptions,
    react(argv, files) {
      if (argv[0] === 'cryptsetup' && argv[1] === 'open' && luks) {
        const container = argv[argv.length - 2]!;
        files.set(`/sys/class/block/${container.slice(container.lastIndexOf('/') + 1)}/holders/dm-${dm}`, { kind: 'symlink', target: `../../dm-${dm}` });
        node(lvm ? pvLabel() : root, argv[argv.length - 1]!, files);
        return ok();
      }
      if (argv[0] === 'lvm' && argv[1] === 'lvs') return ok(lvm ? `  ${lvm.vg}|${lvm.lv}|-wi-${active ? 'a' : '-'}-----|linear\n` : '');
      if (argv[0] === 'lvm' && argv[1] === 'lvchange' && lvm) {
        active = true;
        node(root, mapperName(lvm), files);
        return ok();
      }
      return null;
    },
  };
}
