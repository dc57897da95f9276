#!/usr/bin/env bash
# A disk held back by its rate limit delays nothing else: while 32 guest
# readers keep a disk with iops=10,bw=32K saturated, each always waiting on a
# 4 KiB O_DIRECT read, the guest reads a known 16 MiB pattern from a second
# disk (no limit) and prints a line on the console. The line appears and the
# pattern's data is right while the limited disk's readers are still waiting
# (asserted, not how fast anything went); then the readers stop and the guest
# powers off (exit 0). One guest, the pair of disks once with engine=sync and
# once with engine=io_uring, one pair after the other.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
# shellcheck source=tests/integration/limit-lib.sh
. "$(dirname "$0")/limit-lib.sh"
require_exe "$CVMM"
engines="sync io_uring"
head -c 16M /dev/urandom >"$TEST_TMP/pattern.img"
want=$(region_sha256 "$TEST_TMP/pattern.img" 16)
# Each reader reads one 4 KiB block of its own 64 KiB slice per dd, until
# /tmp/stop, so stopping waits for at most one read each. The limited disk's
# inflight count shows the readers' requests still queued when the pattern's
# read has finished.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$LIMIT_GUEST_LIB"'
for e in '"$engines"'; do
	lim=$(devof "lim-$e") && pat=$(devof "pat-$e") || exit 1
	rm -f /tmp/stop /tmp/started.*
	i=0
	while [ $i -lt 32 ]; do
		(touch /tmp/started.$i
		while [ ! -e /tmp/stop ]; do
			dd if=/dev/$lim of=/dev/null bs=4k count=1 skip=$((i * 16)) iflag=direct 2>/dev/null
		done) &
		i=$((i + 1))
	done
	n=0
	while [ "$(ls /tmp/started.* 2>/dev/null | wc -l)" -lt 32 ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 2
	sample $e-a $lim
	read -r t0 _ </proc/uptime
	sha=$(dd if=/dev/$pat bs=64k count=256 iflag=direct 2>/dev/null | sha256sum)
	echo "cvmm-test: $e: console line while the limited disk is held back"
	read -r t1 _ </proc/uptime
	sample $e-b $lim
	read -r busy _ </sys/block/$lim/inflight
	echo "cvmm-test: $e-pattern=${sha%% *}"
	echo "cvmm-test: $e-pattern-seconds=$t0..$t1"
	echo "cvmm-test: $e-inflight-after=$busy"
	touch /tmp/stop
	wait
	echo "cvmm-test: $e: readers stopped"
done' "$TEST_TMP/initrd"
disks=()
for e in $engines; do
	truncate -s 16M "$TEST_TMP/limited-$e.img"
	disks+=(--disk "path=$TEST_TMP/limited-$e.img,id=lim-$e,engine=$e,iops=10,bw=32K"
		--disk "path=$TEST_TMP/pattern.img,id=pat-$e,engine=$e,ro")
done
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 "${disks[@]}" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
for e in $engines; do
	expect_output "^cvmm-test: $e: console line while the limited disk is held back\$"
	expect_output "^cvmm-test: $e: readers stopped\$"
	[ "$(guest_value "$e-pattern")" = "$want" ] ||
		{ show_output; fail "engine=$e: the unlimited disk read back wrong data"; }
	[ "$(guest_value "$e-inflight-after")" -gt 0 ] ||
		{ show_output; fail "engine=$e: no read waiting on the limited disk after the pattern's read (load not running?)"; }
	echo "engine=$e: ok (pattern read in $(guest_value "$e-pattern-seconds") s of uptime," \
		"limited disk: $(sample_delta rios "$e-a" "$e-b") reads meanwhile, $(guest_value "$e-inflight-after") waiting after)"
done
