#!/usr/bin/env bash
# SIGTERM stops the VM cleanly: cvmm reports the signal and exits 128+15
# after flushing and closing its disks, and what the guest wrote is in the image.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
require_exe "$CVMM"
truncate -s 64M "$TEST_TMP/disk.img"
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'dd if=/dev/urandom of=/tmp/p bs=1M count=8 2>/dev/null
dd if=/tmp/p of=/dev/vda bs=1M oflag=direct 2>/dev/null
echo "cvmm-test: written=$(sha256sum /tmp/p | cut -d" " -f1)"
sleep 1000' "$TEST_TMP/initrd"
start_guest_until '^cvmm-test: written=' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--memory 256 --disk "path=$TEST_TMP/disk.img,engine=io_uring"
kill -TERM "$GUEST_PID"
rc=0
wait_guest || rc=$?
expect_status 143 "$rc"
expect_output '^cvmm: stopping on signal Terminated'
want=$(guest_value written)
got=$(region_sha256 "$TEST_TMP/disk.img" 8)
[ "$want" = "$got" ] || { show_output; fail "written region sha256 $got != guest's '$want'"; }
