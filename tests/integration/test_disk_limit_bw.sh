#!/usr/bin/env bash
# --disk bw=4M: 32 guest processes each move 2 MiB with 128 KiB O_DIRECT
# requests (queue depth 32, 64 MiB, about 15 s at the limit) and never get
# more than 4.4 MiB/s: first reading their region of the disk into the
# guest's RAM, then writing it back one region further on. Measured in the
# guest as in test_disk_limit_iops.sh (6 s window after a 6 s warm-up, and the
# whole phase allowing the full 4 MiB bucket). The data read has the image's
# sha256, and after exit each region of the image holds the region before it
# (sha256 on the host). One guest, one such disk with engine=sync and one with
# engine=io_uring, loaded one after the other.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
# shellcheck source=tests/integration/limit-lib.sh
. "$(dirname "$0")/limit-lib.sh"
require_exe "$CVMM"
engines="sync io_uring"
head -c 64M /dev/urandom >"$TEST_TMP/orig.img"
orig=()
for i in $(seq 0 31); do
	orig[i]=$(region_sha256_at "$TEST_TMP/orig.img" $((i * 2048)) 2048)
done
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$LIMIT_GUEST_LIB"'
for e in '"$engines"'; do
	dev=$(devof "$e") || exit 1
	sample $e-r0 $dev
	i=0
	while [ $i -lt 32 ]; do
		low dd if=/dev/$dev of=/tmp/r.$i bs=128k count=16 skip=$((i * 16)) iflag=direct 2>/dev/null
		i=$((i + 1))
	done
	sleep 6
	sample $e-r1 $dev
	sleep 6
	sample $e-r2 $dev
	wait
	sample $e-r3 $dev
	i=0
	while [ $i -lt 32 ]; do
		sha=$(sha256sum /tmp/r.$i)
		echo "cvmm-test: $e-rsha$i=${sha%% *}"
		i=$((i + 1))
	done
	sample $e-w0 $dev
	i=0
	while [ $i -lt 32 ]; do
		low dd if=/tmp/r.$i of=/dev/$dev bs=128k seek=$((((i + 1) % 32) * 16)) oflag=direct 2>/dev/null
		i=$((i + 1))
	done
	sleep 6
	sample $e-w1 $dev
	sleep 6
	sample $e-w2 $dev
	wait
	sample $e-w3 $dev
	rm /tmp/r.*
done
echo "cvmm-test: writers done"' "$TEST_TMP/initrd"
disks=()
for e in $engines; do
	cp "$TEST_TMP/orig.img" "$TEST_TMP/$e.img"
	disks+=(--disk "path=$TEST_TMP/$e.img,id=$e,engine=$e,bw=4M")
done
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 "${disks[@]}" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: writers done$'
for e in $engines; do
	for i in $(seq 0 31); do
		[ "$(guest_value "$e-rsha$i")" = "${orig[i]}" ] ||
			{ show_output; fail "engine=$e: reader $i read wrong data"; }
		got=$(region_sha256_at "$TEST_TMP/$e.img" $((i * 2048)) 2048)
		[ "$got" = "${orig[(i + 31) % 32]}" ] ||
			fail "engine=$e: image region $i does not hold what the guest wrote there"
	done
	[ "$(sample_delta rsect "$e-r0" "$e-r3")" -ge 131072 ] || fail "engine=$e: the device read less than 64 MiB"
	[ "$(sample_delta wsect "$e-w0" "$e-w3")" -ge 131072 ] || fail "engine=$e: the device wrote less than 64 MiB"
	expect_ceiling "engine=$e bw=4M reads" rsect MiB 2048 4.4 4 "$e-r0" "$e-r1" "$e-r2" "$e-r3"
	expect_ceiling "engine=$e bw=4M writes" wsect MiB 2048 4.4 4 "$e-w0" "$e-w1" "$e-w2" "$e-w3"
done
