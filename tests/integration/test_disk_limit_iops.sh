#!/usr/bin/env bash
# --disk iops=200: 32 guest processes (dd) each reading 512 KiB of their own
# region of /dev/vda into RAM with 4 KiB O_DIRECT reads (queue depth 32, 4096
# reads, about 20 s at the limit) never get more than 220 reads/s out of the
# device. Measured in the guest over a 6 s window that starts after a 6 s
# warm-up (which drains the 200-token bucket the disk starts with), and over
# the whole run allowing that full bucket (see expect_ceiling); the achieved
# rate is printed, not asserted from below. Every reader's data has the right
# sha256. With engine=sync and engine=io_uring.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
# shellcheck source=tests/integration/limit-lib.sh
. "$(dirname "$0")/limit-lib.sh"
require_exe "$CVMM"
# Region i: 512 KiB at i MiB, so no two readers' requests are adjacent and the
# guest cannot merge them.
head -c 32M /dev/urandom >"$TEST_TMP/disk.img"
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$LIMIT_GUEST_LIB"'
sample s0 vda
i=0
while [ $i -lt 32 ]; do
	low dd if=/dev/vda of=/tmp/r.$i bs=4k count=128 skip=$((i * 256)) iflag=direct 2>/dev/null
	i=$((i + 1))
done
sleep 6
sample s1 vda
sleep 6
sample s2 vda
wait
sample s3 vda
i=0
while [ $i -lt 32 ]; do
	sha=$(sha256sum /tmp/r.$i)
	echo "cvmm-test: sha$i=${sha%% *}"
	i=$((i + 1))
done
echo "cvmm-test: readers done"' "$TEST_TMP/initrd"
for engine in sync io_uring; do
	start=$SECONDS
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
		--disk "path=$TEST_TMP/disk.img,engine=$engine,iops=200" || rc=$?
	expect_output '^cvmm-guest: init reached'
	expect_status 0 "$rc"
	expect_output '^cvmm-test: readers done$'
	for i in $(seq 0 31); do
		want=$(region_sha256_at "$TEST_TMP/disk.img" $((i * 1024)) 512)
		[ "$(guest_value "sha$i")" = "$want" ] ||
			{ show_output; fail "engine=$engine: reader $i read wrong data"; }
	done
	reads=$(sample_delta rios s0 s3)
	[ "$reads" -ge 4096 ] || fail "engine=$engine: the device saw $reads reads, want >= 4096"
	expect_ceiling "engine=$engine iops=200" rios reads 1 220 200 s0 s1 s2 s3
	echo "engine=$engine: ok ($((SECONDS - start)) s)"
done
