// Where /init keeps what it makes at boot, in the initramfs and (after the
// moves) in the new root; what the builder puts in the image is in
// image-paths.ts. /run/initramfs follows dracut's and systemd's use of that
// folder for what the initramfs hands over to the booted system.

export const HANDOVER_DIR = '/run/initramfs';
/** The read-only root, mounted as found on the medium. */
export const RO_DIR = `${HANDOVER_DIR}/ro`;
/** The copy-on-write space: a tmpfs holding the union's writable layer. */
export const COW_DIR = `${HANDOVER_DIR}/cow`;
export const UPPER_DIR = `${COW_DIR}/upper`;
/** A live medium (root= with loop=) stays mounted here, as in dracut. */
export const MEDIUM_DIR = `${HANDOVER_DIR}/live`;
/** findiso=: the filesystem that holds the ISO file, as dracut's iso-scan mounts it. */
export const ISO_SCAN_DIR = `${HANDOVER_DIR}/isoscan`;
/** toram: the image file's copy in RAM. */
export const TORAM_DIR = `${HANDOVER_DIR}/toram`;
/** overlay=dm with cow=tmpfs: the sparse file behind the snapshot's COW device. */
export const DM_COW_FILE = `${COW_DIR}/snapshot-cow`;
/** What the name of each device-mapper device cowboot makes starts with. */
export const DM_PREFIX = 'cowboot-';
export const DM_NAME = `${DM_PREFIX}root`;
export const WORK_DIR = `${COW_DIR}/work`;
export const LOG_FILE = `${HANDOVER_DIR}/init.log`;
/** Snapshots that take a journal replay (a root that was not cleanly unmounted) keep their changes here. */
export const REPLAY_DIR = `${HANDOVER_DIR}/replay`;
/** The fstab's other local filesystems: each read-only under MOUNTS_DIR/NAME/ro, its changes in upper/ and work/. */
export const MOUNTS_DIR = `${HANDOVER_DIR}/mounts`;
/** initramfs-tools' mark that the root was checked: sysvinit's checkroot.sh then runs no fsck. */
export const FSCK_ROOT = `${HANDOVER_DIR}/fsck-root`;
export const FSTAB = '/etc/fstab';
export const CRYPTTAB = '/etc/crypttab';
/** persist=: the filesystem that keeps the changes (mounted read-write, the user asked for it). */
export const PERSIST_DIR = `${HANDOVER_DIR}/persist`;
/** persist=SPEC:/FILE: the filesystem that holds the image file. */
export const PERSIST_HOST_DIR = `${HANDOVER_DIR}/persist-host`;
/** The folder of a kept layer on its filesystem: the record, upper/ and work/; bound on COW_DIR. */
export const LAYER_FOLDER = 'cowboot-layer';
export const LAYER_RECORD = 'layer.json';
/** overlay=dm with persist=: the snapshot's store, past the record at the start of the device. */
export const DM_STORE_NAME = 'cowboot-persist';
/** systemd-shutdown runs this after pivoting back into HANDOVER_DIR (its INITRD_INTERFACE). */
export const SHUTDOWN_SCRIPT = `${HANDOVER_DIR}/shutdown`;
/** The fill watcher's script (union/fill-watch.ts), run from the handoff to shutdown. */
export const FILL_WATCH = `${HANDOVER_DIR}/fill-watch`;
