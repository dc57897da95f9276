#!/usr/bin/env bash
# --vsock with the hybrid UNIX-socket back end, one guest for all scenarios:
#  - host->guest 64 MiB (guest shuts its write side first: half-close), and
#    guest->host 64 MiB (host shuts first), sha256 checked at both ends;
#  - 100 concurrent echo connections each way;
#  - a connect to a port nobody listens on, from each side, fails;
#  - the guest process killed mid-stream: the host reader sees EOF;
#  - the host client vanishing mid-stream: the guest writer gets an error;
#  - the guest powers off (exit 0) and the socket file is gone.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsock-lib.sh"
require_exe "$CVMM"
SIZE=$((64 << 20))
want=$("$VT" -g $SIZE gen | sha256sum | cut -d' ' -f1)

# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'echo "cvmm-test: vsock-up"
echo "cvmm-test: h2g=$(/vt vsock-listen:5000 </dev/null | sha256sum | cut -d" " -f1)"
/vt -g '$SIZE' vsock-connect:2:5001 >/dev/null
echo "cvmm-test: g2h-rc=$?"
/vt -c 100 -g 65536 vsock-connect:2:5002
/vt -e -k 100 vsock-listen:5003
echo "cvmm-test: h2g-echo-done"
/vt vsock-connect:2:5999 </dev/null
echo "cvmm-test: refused-rc=$?"
/vt -g 4000000000 vsock-connect:2:5004 >/dev/null 2>&1 &
pid=$!
sleep 3
kill -9 $pid
echo "cvmm-test: killed-writer"
echo "cvmm-test: vanish-start"
/vt -g 4000000000 vsock-connect:2:5005 >/dev/null
echo "cvmm-test: vanish-rc=$?"
/vt vsock-listen:5010 </dev/null >/dev/null
echo "cvmm-test: all-done"' "$TEST_TMP/initrd" "$TEST_TMP/vt-guest:/vt"

# Host listeners for the guest's connections, ready before it boots.
"$VT" "uds-listen:${UDS}_5001" </dev/null 2>/dev/null | sha256sum | cut -d' ' -f1 >"$TEST_TMP/g2h" &
g2h_pid=$!
"$VT" -e -k 100 "uds-listen:${UDS}_5002" 2>/dev/null &
echo_pid=$!
("$VT" "uds-listen:${UDS}_5004" </dev/null 2>/dev/null | wc -c >"$TEST_TMP/killed") &
killed_pid=$!
"$VT" "uds-listen:${UDS}_5005" </dev/null >/dev/null 2>&1 &
vanish_pid=$!

start_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
	--vsock "cid=3,uds=$UDS"
wait_for '^cvmm-test: vsock-up'

host_connect 5000 -g $SIZE >/dev/null
wait_for '^cvmm-test: h2g='
wait "$g2h_pid" || true
wait_for '^cvmm-test: g2h-rc='
host_connect 5003 -c 100 -g 65536
wait_for '^cvmm-test: h2g-echo-done'
"$VT" "uds-connect:$UDS:5998" </dev/null >/dev/null 2>"$TEST_TMP/h-refused" && fail "host connect to a port nobody listens on succeeded"
grep -q 'no OK' "$TEST_TMP/h-refused" || fail "host refused connect: $(cat "$TEST_TMP/h-refused")"
wait_for '^cvmm-test: killed-writer'
wait "$killed_pid" # EOF reached the host reader, else the test times out
wait_for '^cvmm-test: vanish-start'
sleep 2
kill "$vanish_pid"
wait_for '^cvmm-test: vanish-rc='
host_connect 5010 </dev/null >/dev/null
rc=0
wait_guest || rc=$?
expect_status 0 "$rc"
expect_output '^cvmm-test: all-done'
[ "$(guest_value h2g)" = "$want" ] || { show_output; fail "host->guest data differs"; }
[ "$(cat "$TEST_TMP/g2h")" = "$want" ] || fail "guest->host data differs"
[ "$(guest_value g2h-rc)" = 0 ] || { show_output; fail "guest->host sender failed"; }
expect_output '^vsock-tool: concurrent ok=100/100'
wait "$echo_pid" || fail "host echo server failed"
expect_output '^vsock-tool: connect: Connection reset by peer'
[ "$(guest_value refused-rc)" = 1 ] || { show_output; fail "guest connect to nobody did not fail"; }
n=$(cat "$TEST_TMP/killed")
[ "$n" -gt 0 ] && [ "$n" -lt 4000000000 ] || fail "killed stream: host got $n bytes"
[ "$(guest_value vanish-rc)" = 1 ] || { show_output; fail "guest did not see the host vanish"; }
expect_output '^vsock-tool: (write|read): (Broken pipe|Connection reset by peer)'
[ ! -e "$UDS" ] || fail "$UDS left behind"
echo "ok: 64 MiB each way, 100 connections each way, refusals, aborts"
