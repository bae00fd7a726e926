#!/bin/sh
# Seed 004's sandbox: a device-mapper snapshot of the root with its changes on
# a RAM disk, "0 $SZ snapshot $DEV /dev/ram0 N 1", and the API mounts and
# hand-over of seed 000. Adapted: this machine's drivers, brd sized like
# cowboot's cowsize=64M, and --noudevsync (no udev runs here, for either).
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mkdir -m 755 /dev/pts
mount -t devpts -o gid=5,mode=620 none /dev/pts
modprobe virtio_pci
modprobe virtio_blk
modprobe ext4
modprobe dm_snapshot
modprobe brd rd_nr=1 rd_size=65536
while [ ! -e /dev/vda ]; do sleep 0.05; done
DEV=/dev/vda
SZ=$(blockdev --getsz $DEV)
dmsetup --noudevsync create sandbox --table "0 $SZ snapshot $DEV /dev/ram0 N 1"
dmsetup --noudevsync mknodes sandbox
mkdir -p /mnt
mount -t ext4 -o rw /dev/mapper/sandbox /mnt
if [ -x /mnt/sbin/init ]; then
  mount --move /dev /mnt/dev
  mount --move /proc /mnt/proc
  mount --move /sys /mnt/sys
  exec chroot /mnt /sbin/init 5
fi
exec sh
