// persist=: the union's changes on a filesystem or in a snapshot store that
// outlives the boot, instead of RAM. The boot never fails for it: a layer
// that is missing, foreign or unusable is named, let go, and the boot keeps
// its changes in RAM, as live-boot does without its persistence.

import type { Context } from '../core/context';
import type { RootFound } from '../storage/find-device';
import type { Services } from '../kmod/services';
import { BootError, showCommand } from '../core/errors';
import { exec } from '../core/exec';
import { DETECT_BYTES, identifyFs } from '../formats/superblocks';
import { loadModule } from '../kmod/services';
import { mountedTargets, perform } from '../core/mount';
import type { Config } from '../config';
import type { UnionName } from '../config/union-names';
import type { KeptForm } from '../union/kind';
import { COW_DIR, DM_STORE_NAME, HANDOVER_DIR, LAYER_FOLDER, LAYER_RECORD, PERSIST_DIR, PERSIST_HOST_DIR, UPPER_DIR, WORK_DIR } from '../layout/boot-paths';
import { formatBytes } from '../formats/size';
import { attachLoop, isReadOnly, sectors, sysfsName } from '../storage/block';
import { createDmDevice } from '../storage/device-mapper';
import { identify, lookingOptions, mountFilesystem } from '../storage/filesystem';
import { describeSeen, findDevice } from '../storage/find-device';
import { decodeHeader, encodeHeader, type LayerRecord, mismatch, parseRecord, rootIdentity, STORE_OFFSET } from '../formats/layer-record';
import { type PersistSpec, parsePersistSpec, showPersistSpec } from '../formats/persist-spec';

/** A layer in use: where its changes go, and the filesystems the shutdown must see let go. */
export interface KeptLayer {
  /** The snapshot's store device; null for folders, which are bound on COW_DIR. */
  readonly store: string | null;
  /** Filesystems written for the layer, by their devices' kernel names and types. */
  readonly filesystems: readonly { readonly name: string; readonly type: string }[];
}

// overlayfs needs xattrs and d_type from its upper filesystem, and unionfs
// keeps ownership and modes: a FAT stick carries an ext4 image file instead.
const FOLDER_FILESYSTEMS = ['ext2', 'ext3', 'ext4'];
const SECTOR = 512;

/** Undoes what was set up (commands, in reverse) when the layer is let go. */
async function undo(ctx: Context, steps: readonly string[][]): Promise<void> {
  for (const argv of [...steps].reverse()) {
    const result = await ctx.sys.run(argv);
    if (result.status !== 0) ctx.log.warn(`persist: could not undo ${showCommand(argv)}: ${result.stderr.trim()}`);
  }
}

/** The device persist= names, found once for both looking at the layer and using it. */
async function findLayerDevice(ctx: Context, services: Services, spec: PersistSpec, rootdelay: number): Promise<string> {
  const found = await findDevice(ctx, services, spec.device, rootdelay * 1000);
  if (found.path === null) throw new BootError(`no such device within ${rootdelay} s`, { hint: `block devices seen: ${describeSeen(found.seen)}` });
  // The root's device, the medium and what holds an ISO were set read-only by the root stage.
  if (isReadOnly(ctx, found.path)) {
    throw new BootError(`${found.path} is read-only: it holds the root or the boot medium, which are never written`, { hint: 'keep the changes on another partition or device' });
  }
  return found.path;
}

/**
 * The layer's device: `found` itself, or a loop device on the image file on
 * it; read-only to look at the layer, read-write to use it. `steps` learns
 * what to undo.
 */
async function layerDevice(ctx: Context, services: Services, spec: PersistSpec, found: string, writable: boolean, steps: string[][]): Promise<{ device: string; filesystems: KeptLayer['filesystems'] }> {
  if (spec.file === null) return { device: found, filesystems: [] };
  const host = await identify(ctx, services, found, null, `persist=${showPersistSpec(spec)}`);
  await mountFilesystem(ctx, host, PERSIST_HOST_DIR, writable ? 'rw' : lookingOptions(host.type));
  steps.push(['umount', PERSIST_HOST_DIR]);
  const image = `${PERSIST_HOST_DIR}${spec.file}`;
  if (ctx.sys.lstat(image)?.kind !== 'file') {
    throw new BootError(`no file ${spec.file} on ${found} (${host.type})`, { hint: 'make it first, for example: truncate -s 1G FILE && mkfs.ext4 -L persist FILE (docs/persistence.md)' });
  }
  await loadModule(ctx, services, 'loop', 'the image file of persist=');
  const device = await attachLoop(ctx, image, !writable);
  steps.push(['losetup', '-d', device]);
  if (writable) ctx.log.info(`persist: ${image} attached to ${device}`);
  return { device, filesystems: [{ name: sysfsName(found), type: host.type }] };
}

function recordFor(ctx: Context, root: RootFound, overlay: UnionName): LayerRecord {
  const head = ctx.sys.readHead(root.device, DETECT_BYTES);
  return { format: 1, overlay, root: rootIdentity(head, sectors(ctx, root.device) * SECTOR) };
}

/** What a device holds: a layer's record, no layer ('none'), or a layer whose record cannot be read. */
type Found = LayerRecord | 'none' | 'unreadable';

/** What to do with the layer: make it, use it, or take it over (persist.reset, persist.adopt). */
type Verdict = 'new' | 'ours' | 'reset' | 'adopted';

/** Whether the layer holds earlier boots' changes, for the log. */
const keptBefore = (verdict: Verdict) => verdict === 'ours' || verdict === 'adopted';

const OVERRIDES = 'boot with persist.adopt to use it anyway, or persist.reset to start it over';

/** A foreign layer, or one whose record cannot be read, is refused unless persist.reset or persist.adopt says otherwise. */
function judge(ctx: Context, settings: PersistSettings, found: Found, wanted: LayerRecord, where: string): Verdict {
  if (settings.persistReset) return found === 'none' ? 'new' : 'reset';
  if (found === 'none') return 'new';
  const why = found === 'unreadable' ? `${where} holds no readable record of the root it belongs to` : mismatch(found, wanted.overlay, wanted.root);
  if (why === null) return 'ours';
  if (!settings.persistAdopt) {
    throw new BootError(found === 'unreadable' ? `the layer is nobody's: ${why}` : `the layer is not this root's: ${why}`, {
      hint: `its changes would be applied to a root they were not made for; ${OVERRIDES}`,
    });
  }
  ctx.log.warn(`persist.adopt: the layer is used, though ${why}; it is recorded as this root's now`);
  return 'adopted';
}

async function folderFilesystem(ctx: Context, services: Services, device: string, overlay: string) {
  const fs = await identify(ctx, services, device, null, 'persist=');
  if (!FOLDER_FILESYSTEMS.includes(fs.type)) {
    throw new BootError(`${device} holds ${fs.type}, which cannot keep overlay=${overlay}'s changes (it needs ${FOLDER_FILESYSTEMS.join(', ')})`, {
      hint: 'on a FAT or exFAT stick, keep an ext4 image file: persist=DEVICE:/persist.img',
    });
  }
  return fs;
}

const LAYER = `${PERSIST_DIR}/${LAYER_FOLDER}`;
const RECORD = `${LAYER}/${LAYER_RECORD}`;

/** The record of the layer folder, from the filesystem mounted read-only, its journal left as it is. */
async function readFolderRecord(ctx: Context, services: Services, device: string, overlay: string, steps: string[][]): Promise<Found> {
  const fs = await folderFilesystem(ctx, services, device, overlay);
  await mountFilesystem(ctx, fs, PERSIST_DIR, lookingOptions(fs.type));
  steps.push(['umount', PERSIST_DIR]);
  if (ctx.sys.lstat(LAYER) === null) return 'none';
  try {
    return parseRecord(ctx.sys.readText(RECORD)) ?? 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Folders on the device's filesystem, mounted read-write and bound on COW_DIR. */
async function openFolders(ctx: Context, services: Services, device: string, wanted: LayerRecord, verdict: Verdict, steps: string[][]): Promise<{ name: string; type: string }> {
  const fs = await folderFilesystem(ctx, services, device, wanted.overlay);
  await mountFilesystem(ctx, fs, PERSIST_DIR, 'rw');
  steps.push(['umount', PERSIST_DIR]);
  if (verdict === 'reset') {
    await exec(ctx, ['rm', '-rf', LAYER]);
    ctx.log.info(`persist.reset: the kept layer on ${device} was removed; it starts empty`);
  }
  ctx.sys.mkdirp(LAYER);
  if (verdict !== 'ours') ctx.sys.writeText(RECORD, `${JSON.stringify(wanted, null, 2)}\n`);
  // Tried again after the rescue shell: bound already.
  if (!mountedTargets(ctx).has(COW_DIR)) {
    ctx.sys.mkdirp(COW_DIR);
    await perform(ctx, { kind: 'bind', source: LAYER, target: COW_DIR });
  }
  ctx.sys.mkdirp(UPPER_DIR);
  ctx.sys.mkdirp(WORK_DIR);
  ctx.log.info(`persist: changes go to ${LAYER} on ${device} (${fs.type}), ${keptBefore(verdict) ? 'kept from earlier boots' : 'a new layer'}`);
  return { name: sysfsName(fs.device), type: fs.type };
}

/** The record at the start of a snapshot's device; data that is not a layer is never written over. */
function readStoreRecord(ctx: Context, device: string): Found {
  const head = ctx.sys.readHead(device, DETECT_BYTES);
  const total = sectors(ctx, device) * SECTOR;
  if (total < 2 * STORE_OFFSET) throw new BootError(`${device} has ${formatBytes(total)}; a snapshot store needs more than ${formatBytes(2 * STORE_OFFSET)}`);
  const header = decodeHeader(head);
  if (header === 'none' && head.some((b) => b !== 0)) {
    const fs = identifyFs(head);
    throw new BootError(`${device} holds ${fs ? fs.type : 'data'} and no cowboot layer; overlay=dm would write its store over it`, {
      hint: `to give the whole of it to cowboot, zero its start first (dd if=/dev/zero of=${device} bs=1M count=2); or keep an image file on it: persist=DEVICE:/persist.cow`,
    });
  }
  return header;
}

/** Writes `text` at the start of `device` without truncating it (a file of the text, copied with dd). */
async function writeHead(ctx: Context, device: string, text: string): Promise<void> {
  const staged = `${HANDOVER_DIR}/layer-record`;
  ctx.sys.writeText(staged, text);
  await exec(ctx, ['dd', `if=${staged}`, `of=${device}`, 'conv=notrunc,fsync']);
}

/** A snapshot's store past the record at the start of the device: a new one is empty, as dm reads a zeroed header. */
async function openStore(ctx: Context, services: Services, device: string, wanted: LayerRecord, verdict: Verdict, steps: string[][]): Promise<string> {
  if (verdict === 'new' || verdict === 'reset') {
    // A zeroed header is a new store to dm; the chunks past it are never read.
    await exec(ctx, ['dd', 'if=/dev/zero', `of=${device}`, 'bs=4096', 'count=1', `seek=${STORE_OFFSET / 4096}`, 'conv=notrunc,fsync']);
    if (verdict === 'reset') ctx.log.info(`persist.reset: the kept snapshot store on ${device} starts empty`);
  }
  if (verdict !== 'ours') await writeHead(ctx, device, encodeHeader(wanted));
  await loadModule(ctx, services, 'dm_mod', 'the snapshot store of persist=');
  const offset = STORE_OFFSET / SECTOR;
  const store = await createDmDevice(ctx, DM_STORE_NAME, `0 ${sectors(ctx, device) - offset} linear ${device} ${offset}`, { what: 'store', readOnly: false, hint: 'the dm_mod module must be loaded' });
  steps.push(['dmsetup', '--noudevsync', 'remove', DM_STORE_NAME]);
  ctx.log.info(`persist: the snapshot's changes go to ${device} past its first MiB, ${keptBefore(verdict) ? 'kept from earlier boots' : 'a new store'}`);
  return store;
}

/** Opens the kept layer, or returns null (and says why) so that the boot keeps its changes in RAM. */
/** The settings persist= reads: its own, and rootdelay= for the wait for its device. */
export type PersistSettings = Pick<Config, 'persist' | 'persistReset' | 'persistAdopt' | 'rootdelay'>;

export async function openKeptLayer(ctx: Context, services: Services, settings: PersistSettings, root: RootFound, overlay: UnionName, form: KeptForm | null): Promise<KeptLayer | null> {
  const text = settings.persist;
  if (text === null) return null;
  if (form === null) {
    ctx.log.warn(`persist=${text}: overlay=${overlay} makes no changes to keep; persist= is not used`);
    return null;
  }
  // Validated with the config; the row holds the text.
  const spec = parsePersistSpec(text)!;
  const steps: string[][] = [];
  try {
    const wanted = recordFor(ctx, root, overlay);
    // First read-only: a layer that is refused is left exactly as it was.
    const found = await findLayerDevice(ctx, services, spec, settings.rootdelay);
    const look = await layerDevice(ctx, services, spec, found, false, steps);
    const record = form === 'store' ? readStoreRecord(ctx, look.device) : await readFolderRecord(ctx, services, look.device, overlay, steps);
    const verdict = judge(ctx, settings, record, wanted, showPersistSpec(spec));
    await undo(ctx, steps.splice(0));
    const { device, filesystems } = await layerDevice(ctx, services, spec, found, true, steps);
    if (form === 'store') return { store: await openStore(ctx, services, device, wanted, verdict, steps), filesystems };
    return { store: null, filesystems: [...filesystems, await openFolders(ctx, services, device, wanted, verdict, steps)] };
  } catch (error) {
    if (!(error instanceof BootError)) throw error;
    await undo(ctx, steps);
    ctx.log.warn(`persist=${text}: ${error.message}${error.detail.hint ? ` (${error.detail.hint})` : ''}; this boot keeps its changes in RAM`);
    return null;
  }
}
