#!/usr/bin/env bash
# --net ...,rx-bw=8M,tx-bw=8M: 64 MiB over TCP each way stays under the
# bound and arrives intact (or NET_LIMIT_RATE MiB/s and NET_LIMIT_MIB MiB).
# The limit is a ceiling, checked from above only:
# a bucket of 8 MiB that starts full lets through at most 8 MiB + 8 MiB/s x T
# in T seconds (frame bytes, so TCP payload is less), so 64 MiB must take at
# least 7 s each way; each measurement must span at least 5 s. The rates are
# printed (a slow host may never reach the limit: test_net_limit_bw_low.sh
# checks 1 MiB/s with 16 MiB, which the rig's nested guests exceed unlimited).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
mib=${NET_LIMIT_MIB:-64}
rate=${NET_LIMIT_RATE:-8}
head -c "${mib}M" /dev/urandom >"$TEST_TMP/data"
want=$(sha256sum <"$TEST_TMP/data" | cut -d' ' -f1)
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP
$GUEST_NET_RECEIVE"'
echo "cvmm-test: in-sha=$(sha256sum /tmp/in | cut -d" " -f1)"
t0=$(cut -d" " -f1 /proc/uptime)
nc 192.0.2.1 7001 </tmp/in && echo "cvmm-test: sent=yes"
t1=$(cut -d" " -f1 /proc/uptime)
echo "cvmm-test: tx-seconds=$(echo "$t1 $t0" | awk "{ print \$1 - \$2 }")"' "$TEST_TMP/initrd"
net_tap cvmmt0 192.0.2.1/24
net_listen 7001 "$TEST_TMP/back"
start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--memory 512 --net "tap=cvmmt0,rx-bw=${rate}M,tx-bw=${rate}M"
t0=$(date +%s.%N)
net_send_retry 192.0.2.2 7002 "$TEST_TMP/data" || fail "cannot send to the guest"
t1=$(date +%s.%N)
rc=0
wait_guest || rc=$?
net_listen_wait
expect_status 0 "$rc"
expect_output '^cvmm-test: sent=yes$'
[ "$(guest_value in-sha)" = "$want" ] || { show_output; fail "the guest received other data"; }
[ "$(sha256sum <"$TEST_TMP/back" | cut -d' ' -f1)" = "$want" ] || fail "the host received other data back"
rx=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
tx=$(guest_value tx-seconds)
for dir in "rx $rx" "tx $tx"; do
	# shellcheck disable=SC2086 # "DIR SECONDS" into two words
	set -- $dir
	awk -v t="$2" -v m="$mib" -v r="$rate" -v d="$1" 'BEGIN {
		printf "%s: %d MiB in %.1f s = %.2f MiB/s (limit %d MiB/s)\n", d, m, t, m / t, r
		if (t < 5) { print d ": measured over less than 5 s"; exit 1 }
		if (m > r + r * t) { print d ": over the bound"; exit 1 }
	}' || fail "$1 exceeds rx-bw/tx-bw=${rate}M"
done
