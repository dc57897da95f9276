#!/usr/bin/env bash
# Data the guest has synced survives SIGKILL of the monitor: the host kills
# cvmm the moment the guest reports its sync, with more writes in flight.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
require_exe "$CVMM"
truncate -s 128M "$TEST_TMP/disk.img"
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'dd if=/dev/urandom of=/tmp/p bs=1M count=16 2>/dev/null
dd if=/tmp/p of=/dev/vda bs=1M 2>/dev/null
sync
echo "cvmm-test: synced=$(sha256sum /tmp/p | cut -d" " -f1)"
dd if=/dev/urandom of=/dev/vda bs=1M seek=32 count=64 2>/dev/null
sleep 1000' "$TEST_TMP/initrd"
start_guest_until '^cvmm-test: synced=' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--memory 256 --disk "path=$TEST_TMP/disk.img"
kill -9 "$GUEST_PID"
rc=0
wait_guest || rc=$?
expect_status 137 "$rc"
want=$(guest_value synced)
got=$(region_sha256 "$TEST_TMP/disk.img" 16)
[ "$want" = "$got" ] || { show_output; fail "synced region sha256 $got != guest's '$want'"; }
