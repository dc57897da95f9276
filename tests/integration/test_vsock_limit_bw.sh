#!/usr/bin/env bash
# --vsock bw=8M: 48 MiB host->guest take at least 5 s (the bucket starts full
# with 8 MiB, then 8 MiB/s; an upper bound on throughput only), and arrive
# intact (sha256). Bad limit combinations are refused before a VM exists.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsock-lib.sh"
require_exe "$CVMM"
rc=0
"$CVMM" run --kernel "$RIG_BZIMAGE" --vsock "cid=3,uds=$UDS,vhost=on,bw=8M" 2>"$GUEST_ERR" || rc=$?
[ "$rc" = 2 ] && grep -q 'bw= and iops=' "$GUEST_ERR" || fail "vhost=on with bw= not refused (rc=$rc)"
SIZE=$((48 << 20))
want=$("$VT" -g $SIZE gen | sha256sum | cut -d' ' -f1)
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'echo "cvmm-test: vsock-up"
echo "cvmm-test: h2g=$(/vt vsock-listen:5000 </dev/null | sha256sum | cut -d" " -f1)"' \
	"$TEST_TMP/initrd" "$TEST_TMP/vt-guest:/vt"
start_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
	--vsock "cid=3,uds=$UDS,bw=8M"
wait_for '^vsock-tool: listening on vsock-listen:5000'
start=$(date +%s.%N)
"$VT" -g $SIZE "uds-connect:$UDS:5000" >/dev/null || fail "host->guest stream failed"
wait_for '^cvmm-test: h2g='
secs=$(echo "$(date +%s.%N) - $start" | bc)
rc=0
wait_guest || rc=$?
expect_status 0 "$rc"
[ "$(guest_value h2g)" = "$want" ] || { show_output; fail "data differs"; }
echo "48 MiB in $secs s at bw=8M"
[ "$(echo "$secs >= 5" | bc)" = 1 ] || fail "48 MiB took $secs s: faster than 8 MiB/s after the burst"
