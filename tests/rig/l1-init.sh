#!/bin/sh
# /init of the L1 initramfs (built by assets.sh, booted by rig.sh).
# Kernel console and the CVMM-RIG-* markers go to ttyS0 (a log file on the
# host); the command's stdout+stderr go to ttyS1 (the rig's stdout).
# Kernel command line (set by rig.sh):
#   cvmm_rig.run=DIR          host dir holding cmd.sh (inside a shared mount)
#   cvmm_rig.mounts=T:P,...   9p tags mounted writable at host path P
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys

fail() {
	echo "CVMM-RIG-FAIL: $*"
	poweroff -f
}

# shellcheck disable=SC2013 # one path per line, no spaces
for ko in $(cat /etc/modules.order); do
	insmod "$ko" || echo "rig-l1: insmod $ko failed"
done
[ -c /dev/kvm ] || fail "/dev/kvm missing after loading kvm-amd (no SVM in -cpu max?)"

run=""
mounts=""
interactive=0
# shellcheck disable=SC2013 # the cmdline is one line of words
for tok in $(cat /proc/cmdline); do
	case "$tok" in
	cvmm_rig.run=*) run=${tok#*=} ;;
	cvmm_rig.mounts=*) mounts=${tok#*=} ;;
	cvmm_rig.interactive=1) interactive=1 ;;
	esac
done
[ -n "$run" ] || fail "no cvmm_rig.run= on the kernel command line"

R=/newroot
mkdir -p $R
opts=trans=virtio,version=9p2000.L,msize=512000
mount -t 9p -o "ro,$opts,cache=loose" hostroot $R || fail "cannot mount the host root"
mount -t tmpfs -o mode=1777 tmpfs $R/tmp || fail "tmpfs /tmp"
mount -t tmpfs -o mode=755 tmpfs $R/run
mount -t devtmpfs devtmpfs $R/dev || fail "devtmpfs"
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t proc proc $R/proc || fail "proc"
mount -t sysfs sysfs $R/sys
# rig.sh lists the writable shares shortest path first, so nesting works.
for m in $(echo "$mounts" | tr , ' '); do
	tag=${m%%:*}
	path=${m#*:}
	mkdir -p "$R$path" 2>/dev/null
	mount -t 9p -o "rw,$opts,cache=mmap" "$tag" "$R$path" || fail "cannot mount $tag at $path"
done

stty -F /dev/ttyS1 raw -echo 2>/dev/null
echo "CVMM-RIG-START uptime=$(cut -d' ' -f1 /proc/uptime)"
# Heartbeat: rig.sh treats a console silent for long as a hung L1.
(while sleep 10; do echo "CVMM-RIG-ALIVE"; done) &
if [ "$interactive" = 1 ]; then
	chroot $R /bin/bash "$run/cmd.sh" </dev/ttyS1 >/dev/ttyS1 2>&1
else
	chroot $R /bin/bash "$run/cmd.sh" </dev/null >/dev/ttyS1 2>&1
fi
rc=$?
sync
echo "CVMM-RIG-EXIT=$rc uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
