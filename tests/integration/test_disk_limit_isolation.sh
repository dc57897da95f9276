#!/usr/bin/env bash
# A disk held back by its rate limit delays nothing else: while 32 guest
# readers keep /dev/vda (iops=10,bw=32K) saturated, each always waiting on a
# 4 KiB O_DIRECT read, the guest reads a known 16 MiB pattern from /dev/vdb
# (no limit) and prints a line on the console. With engine=sync and
# engine=io_uring, the line appears and vdb's data is right, while vda's
# readers are still waiting (asserted, not how fast anything went); then the
# readers stop and the guest powers off (exit 0).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
# shellcheck source=tests/integration/limit-lib.sh
. "$(dirname "$0")/limit-lib.sh"
require_exe "$CVMM"
truncate -s 16M "$TEST_TMP/limited.img"
head -c 16M /dev/urandom >"$TEST_TMP/pattern.img"
want=$(region_sha256 "$TEST_TMP/pattern.img" 16)
# Each reader reads one 4 KiB block of its own 64 KiB slice per dd, until
# /tmp/stop, so stopping waits for at most one read each. /sys/block/vda/inflight
# shows the readers' requests still queued when vdb's read has finished.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$LIMIT_GUEST_LIB"'
i=0
while [ $i -lt 32 ]; do
	(touch /tmp/started.$i
	while [ ! -e /tmp/stop ]; do
		dd if=/dev/vda of=/dev/null bs=4k count=1 skip=$((i * 16)) iflag=direct 2>/dev/null
	done) &
	i=$((i + 1))
done
n=0
while [ "$(ls /tmp/started.* | wc -l)" -lt 32 ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
sleep 2
sample a vda
read -r t0 _ </proc/uptime
sha=$(dd if=/dev/vdb bs=64k count=256 iflag=direct 2>/dev/null | sha256sum)
echo "cvmm-test: console line while vda is held back"
read -r t1 _ </proc/uptime
sample b vda
read -r busy _ </sys/block/vda/inflight
echo "cvmm-test: vdb=${sha%% *}"
echo "cvmm-test: vdb-seconds=$t0..$t1"
echo "cvmm-test: vda-inflight-after=$busy"
touch /tmp/stop
wait
echo "cvmm-test: readers stopped"' "$TEST_TMP/initrd"
for engine in sync io_uring; do
	start=$SECONDS
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
		--disk "path=$TEST_TMP/limited.img,engine=$engine,iops=10,bw=32K" \
		--disk "path=$TEST_TMP/pattern.img,engine=$engine,ro" || rc=$?
	expect_output '^cvmm-guest: init reached'
	expect_status 0 "$rc"
	expect_output '^cvmm-test: console line while vda is held back$'
	expect_output '^cvmm-test: readers stopped$'
	[ "$(guest_value vdb)" = "$want" ] ||
		{ show_output; fail "engine=$engine: /dev/vdb read back wrong data"; }
	[ "$(guest_value vda-inflight-after)" -gt 0 ] ||
		{ show_output; fail "engine=$engine: no vda read waiting after vdb's read (load not running?)"; }
	echo "engine=$engine: ok ($((SECONDS - start)) s; vdb read in $(guest_value vdb-seconds) s of uptime," \
		"vda reads meanwhile: $(sample_delta rios a b), vda requests waiting after: $(guest_value vda-inflight-after))"
done
