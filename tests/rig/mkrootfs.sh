#!/usr/bin/env bash
# Make an ext4 root filesystem image with busybox-static and an /sbin/init
# that prints "cvmm-rootfs: init reached", then runs SCRIPT if given (and
# powers off), else an interactive shell on the console:
#   tests/rig/mkrootfs.sh OUT.img [SIZE_MiB] [SCRIPT]
set -euo pipefail
out=$1
size=${2:-64}
script=${3:-}
busybox=/bin/busybox
[ -x "$busybox" ] && file -L "$busybox" | grep -q 'statically linked' || busybox=/usr/bin/busybox
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,mnt,etc}
cp "$busybox" "$stage/bin/busybox"
for a in $("$busybox" --list); do
	[ -e "$stage/bin/$a" ] || ln -s busybox "$stage/bin/$a"
done
cat >"$stage/sbin/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "cvmm-rootfs: init reached ($(grep -o 'root=[^ ]*' /proc/cmdline))"
if [ -x /etc/test.sh ]; then
	/etc/test.sh
else
	echo "cvmm-rootfs: busybox shell on an ext4 root disk; 'poweroff -f' ends the VM"
	setsid cttyhack sh
fi
poweroff -f
INIT
chmod +x "$stage/sbin/init"
if [ -n "$script" ]; then
	cp "$script" "$stage/etc/test.sh"
	chmod +x "$stage/etc/test.sh"
fi
rm -f "$out"
mkfs.ext4 -q -F -d "$stage" "$out" "${size}M"
