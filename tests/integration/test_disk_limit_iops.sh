#!/usr/bin/env bash
# --disk iops=200: 32 guest processes (dd) each reading 512 KiB of their own
# region of the disk into RAM with 4 KiB O_DIRECT reads (queue depth 32, 4096
# reads, about 20 s at the limit) never get more than 220 reads/s out of the
# device. Measured in the guest over a 6 s window that starts after a 6 s
# warm-up (which drains the 200-token bucket the disk starts with), and over
# the whole run allowing that full bucket (see expect_ceiling); the achieved
# rate is printed, not asserted from below. Every reader's data has the right
# sha256. One guest, one such disk with engine=sync and one with
# engine=io_uring, loaded one after the other.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
# shellcheck source=tests/integration/limit-lib.sh
. "$(dirname "$0")/limit-lib.sh"
require_exe "$CVMM"
engines="sync io_uring"
# Region i: 512 KiB at i MiB, so no two readers' requests are adjacent and the
# guest cannot merge them.
head -c 32M /dev/urandom >"$TEST_TMP/sync.img"
cp "$TEST_TMP/sync.img" "$TEST_TMP/io_uring.img"
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$LIMIT_GUEST_LIB"'
for e in '"$engines"'; do
	dev=$(devof "$e") || exit 1
	sample $e-0 $dev
	i=0
	while [ $i -lt 32 ]; do
		low dd if=/dev/$dev of=/tmp/r.$i bs=4k count=128 skip=$((i * 256)) iflag=direct 2>/dev/null
		i=$((i + 1))
	done
	sleep 6
	sample $e-1 $dev
	sleep 6
	sample $e-2 $dev
	wait
	sample $e-3 $dev
	i=0
	while [ $i -lt 32 ]; do
		sha=$(sha256sum /tmp/r.$i)
		echo "cvmm-test: $e-sha$i=${sha%% *}"
		rm /tmp/r.$i
		i=$((i + 1))
	done
done
echo "cvmm-test: readers done"' "$TEST_TMP/initrd"
disks=()
for e in $engines; do
	disks+=(--disk "path=$TEST_TMP/$e.img,id=$e,engine=$e,iops=200")
done
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 "${disks[@]}" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: readers done$'
for e in $engines; do
	for i in $(seq 0 31); do
		want=$(region_sha256_at "$TEST_TMP/$e.img" $((i * 1024)) 512)
		[ "$(guest_value "$e-sha$i")" = "$want" ] ||
			{ show_output; fail "engine=$e: reader $i read wrong data"; }
	done
	reads=$(sample_delta rios "$e-0" "$e-3")
	[ "$reads" -ge 4096 ] || fail "engine=$e: the device saw $reads reads, want >= 4096"
	expect_ceiling "engine=$e iops=200" rios reads 1 220 200 "$e-0" "$e-1" "$e-2" "$e-3"
done
