#!/bin/sh
# Seed 000's steps with kernel overlayfs in place of unionfs-fuse.
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mkdir -m 755 /dev/pts
mount -t devpts -o gid=5,mode=620 none /dev/pts
modprobe virtio_pci
modprobe virtio_blk
modprobe ext4
modprobe overlay
mkdir -p /opt /cow /mnt
while [ ! -e /dev/vda ]; do sleep 0.05; done
mount -r /dev/vda /opt
mount -t tmpfs none /cow
mkdir /cow/upper /cow/work
mount -t overlay -o lowerdir=/opt,upperdir=/cow/upper,workdir=/cow/work overlay /mnt
if [ -x /mnt/sbin/init ]; then
  mount --move /dev /mnt/dev
  mount --move /proc /mnt/proc
  mount --move /sys /mnt/sys
  exec chroot /mnt /sbin/init 5
fi
exec sh
