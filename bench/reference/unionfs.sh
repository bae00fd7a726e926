#!/bin/sh
# Seed 000's init script (unionfs-fuse over a read-only root), run by busybox
# sh instead of dash, adapted only where this machine differs: its drivers
# (virtio, not pata_via), the root's filesystem module (the seed's kernel had
# ext2 built in), Debian's name for the binary (unionfs).
mount -t proc none /proc
mount -t sysfs none /sys
mount -t devtmpfs none /dev
mkdir -m 755 /dev/pts
mount -t devpts -o gid=5,mode=620 none /dev/pts
modprobe virtio_pci
modprobe virtio_blk
modprobe ext4
mkdir -p /opt /mnt
while [ ! -e /dev/vda ]; do sleep 0.05; done
mount -r /dev/vda /opt
mount -t tmpfs none /opt/tmp
mkdir /opt/tmp/.change
modprobe fuse
unionfs -o allow_other,use_ino,suid,dev,nonempty,kernel_cache \
  -o cow,chroot=/opt,max_files=32768 /tmp/.change=RW:/=RO /mnt
if [ -x /mnt/sbin/init ]; then
  mount --move /dev /mnt/dev
  mount --move /proc /mnt/proc
  mount --move /sys /mnt/sys
  exec chroot /mnt /sbin/init 5
fi
exec sh
