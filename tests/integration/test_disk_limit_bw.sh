#!/usr/bin/env bash
# --disk bw=4M: 32 guest processes each move 2 MiB with 128 KiB O_DIRECT
# requests (queue depth 32, 64 MiB, about 15 s at the limit) and never get
# more than 4.4 MiB/s: first reading their region of /dev/vda into the
# guest's RAM, then writing it back one region further on. Measured in the
# guest as in test_disk_limit_iops.sh (6 s window after a 6 s warm-up, and the
# whole phase allowing the full 4 MiB bucket). The data read has the image's
# sha256, and after exit each region of the image holds the region before it
# (sha256 on the host). With engine=sync and engine=io_uring.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
# shellcheck source=tests/integration/limit-lib.sh
. "$(dirname "$0")/limit-lib.sh"
require_exe "$CVMM"
head -c 64M /dev/urandom >"$TEST_TMP/orig.img"
orig=()
for i in $(seq 0 31); do
	orig[i]=$(region_sha256_at "$TEST_TMP/orig.img" $((i * 2048)) 2048)
done
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$LIMIT_GUEST_LIB"'
sample r0 vda
i=0
while [ $i -lt 32 ]; do
	low dd if=/dev/vda of=/tmp/r.$i bs=128k count=16 skip=$((i * 16)) iflag=direct 2>/dev/null
	i=$((i + 1))
done
sleep 6
sample r1 vda
sleep 6
sample r2 vda
wait
sample r3 vda
i=0
while [ $i -lt 32 ]; do
	sha=$(sha256sum /tmp/r.$i)
	echo "cvmm-test: rsha$i=${sha%% *}"
	i=$((i + 1))
done
sample w0 vda
i=0
while [ $i -lt 32 ]; do
	low dd if=/tmp/r.$i of=/dev/vda bs=128k seek=$((((i + 1) % 32) * 16)) oflag=direct 2>/dev/null
	i=$((i + 1))
done
sleep 6
sample w1 vda
sleep 6
sample w2 vda
wait
sample w3 vda
echo "cvmm-test: writers done"' "$TEST_TMP/initrd"
for engine in sync io_uring; do
	start=$SECONDS
	cp "$TEST_TMP/orig.img" "$TEST_TMP/disk.img"
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
		--disk "path=$TEST_TMP/disk.img,engine=$engine,bw=4M" || rc=$?
	expect_output '^cvmm-guest: init reached'
	expect_status 0 "$rc"
	expect_output '^cvmm-test: writers done$'
	for i in $(seq 0 31); do
		[ "$(guest_value "rsha$i")" = "${orig[i]}" ] ||
			{ show_output; fail "engine=$engine: reader $i read wrong data"; }
		got=$(region_sha256_at "$TEST_TMP/disk.img" $((i * 2048)) 2048)
		[ "$got" = "${orig[(i + 31) % 32]}" ] ||
			fail "engine=$engine: image region $i does not hold what the guest wrote there"
	done
	[ "$(sample_delta rsect r0 r3)" -ge 131072 ] || fail "engine=$engine: the device read less than 64 MiB"
	[ "$(sample_delta wsect w0 w3)" -ge 131072 ] || fail "engine=$engine: the device wrote less than 64 MiB"
	expect_ceiling "engine=$engine bw=4M reads" rsect MiB 2048 4.4 4 r0 r1 r2 r3
	expect_ceiling "engine=$engine bw=4M writes" wsect MiB 2048 4.4 4 w0 w1 w2 w3
	echo "engine=$engine: ok ($((SECONDS - start)) s)"
done
