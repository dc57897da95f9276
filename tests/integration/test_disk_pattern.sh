#!/usr/bin/env bash
# 64 MiB of random data written raw to /dev/vda (conv=fsync) lands in the image
# intact, with engine=sync and with engine=io_uring.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'dd if=/dev/urandom of=/tmp/p bs=1M count=64 2>/dev/null
echo "cvmm-test: sha=$(sha256sum /tmp/p | cut -d" " -f1)"
dd if=/tmp/p of=/dev/vda bs=1M conv=fsync 2>/dev/null && echo "cvmm-test: dd=ok"' "$TEST_TMP/initrd"
for engine in sync io_uring; do
	rm -f "$TEST_TMP/disk.img"
	truncate -s 96M "$TEST_TMP/disk.img"
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 512 \
		--disk "path=$TEST_TMP/disk.img,engine=$engine" || rc=$?
	expect_output '^cvmm-guest: init reached'
	expect_status 0 "$rc"
	expect_output '^cvmm-test: dd=ok$'
	want=$(guest_value sha)
	got=$(region_sha256 "$TEST_TMP/disk.img" 64)
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		show_output
		fail "engine=$engine: image sha256 $got != guest's '$want'"
	fi
	echo "engine=$engine: ok"
done
