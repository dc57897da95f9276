#!/usr/bin/env bash
# Inside the L1 of tests/durability/run.sh (not on its own):
#   l1.sh CVMM BZIMAGE INITRD ENGINE...
# For each ENGINE, boots a guest with the L1 disk whose serial is rigN (N its
# position) as its only disk (--disk path=/dev/vdX,engine=ENGINE plus
# $CVMM_DURABILITY_DISK_OPTS), waits for the guest's "cvmm-test: synced=SHA"
# and prints "cvmm-durability: engine=ENGINE synced=SHA"; the guests keep
# running. Then prints "cvmm-durability: ready" and waits to be killed with the
# whole L1. A guest that fails to report prints "cvmm-durability: engine=ENGINE
# failed" and its output, and the script exits 1.
set -euo pipefail
[ "${CVMM_RIG_MODE:-}" = l1 ] || { echo "l1.sh: run me through tests/durability/run.sh" >&2; exit 2; }
cvmm=$1 bzimage=$2 initrd=$3
shift 3
timeout_s=${CVMM_TEST_GUEST_TIMEOUT:-240}

# Keep what cvmm did not fdatasync in L1's page cache until the power cut:
# no periodic writeback, nothing old enough to expire.
echo 0 >/proc/sys/vm/dirty_writeback_centisecs
echo 360000 >/proc/sys/vm/dirty_expire_centisecs

disk_for() { # serial -> /dev/vdX
	local s
	for s in /sys/block/vd*/serial; do
		[ -e "$s" ] || continue
		if [ "$(cat "$s")" = "$1" ]; then
			s=${s%/serial}
			echo "/dev/${s##*/}"
			return 0
		fi
	done
	return 1
}

# The L1 initramfs loads virtio_blk; an image built by an older assets.sh may not.
if ! disk_for rig0 >/dev/null && [ ! -d /sys/module/virtio_blk ]; then
	"${RIG_BUSYBOX:-busybox}" insmod "$RIG_L1_MODDIR/kernel/drivers/block/virtio_blk.ko" || true
fi

n=0
for engine in "$@"; do
	dev=$(disk_for "rig$n") || { echo "cvmm-durability: engine=$engine failed: no L1 disk rig$n"; exit 1; }
	out=/tmp/guest-$engine.out
	"$cvmm" run --kernel "$bzimage" --initrd "$initrd" --memory 256 \
		--disk "path=$dev,engine=$engine${CVMM_DURABILITY_DISK_OPTS:-}" </dev/null >"$out" 2>&1 &
	pid=$!
	deadline=$((SECONDS + timeout_s))
	while ! sha=$(tr -d '\r' <"$out" | sed -n 's/^cvmm-test: synced=//p' | grep .); do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			echo "cvmm-durability: engine=$engine failed: no 'cvmm-test: synced=' (cvmm gone or ${timeout_s}s passed)"
			tr -d '\r' <"$out" | tail -n 30 | sed 's/^/    /'
			exit 1
		fi
		sleep 1
	done
	echo "cvmm-durability: engine=$engine device=$dev synced=$sha"
	n=$((n + 1))
done
echo "cvmm-durability: ready"
while :; do sleep 60; done
