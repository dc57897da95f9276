#!/usr/bin/env bash
# --vsock with the hybrid back end, SEQPACKET (the Debian guest negotiates
# it): the guest connects SOCK_SEQPACKET sockets to host ports served by
# SOCK_SEQPACKET listeners on <uds>_<port>. 200 messages of 1..60000 bytes
# each read on the host as exactly one message; 200 more echoed by the host,
# each read back whole in the guest; a SEQPACKET connect to a STREAM
# listener is refused.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsock-lib.sh"
require_exe "$CVMM"
"$VT" -S 200 "uds-listen:${UDS}_5021" >"$TEST_TMP/seq" 2>&1 &
seq_pid=$!
"$VT" -S 200 -e "uds-listen:${UDS}_5022" >"$TEST_TMP/seq-echo" 2>&1 &
echo_pid=$!
"$VT" "uds-listen:${UDS}_5023" </dev/null >/dev/null 2>&1 &
stream_pid=$!
make_initrd_with_test '/vt -S 200 vsock-connect:2:5021
echo "cvmm-test: seq-rc=$?"
/vt -S 200 -e vsock-connect:2:5022
echo "cvmm-test: echo-rc=$?"
/vt -S 1 vsock-connect:2:5023
echo "cvmm-test: mismatch-rc=$?"' "$TEST_TMP/initrd" "$TEST_TMP/vt-guest:/vt"
start_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
	--vsock "cid=3,uds=$UDS,timeout=60000"
rc=0
wait_guest || rc=$?
kill "$stream_pid" 2>/dev/null || true
expect_status 0 "$rc"
[ "$(guest_value seq-rc)" = 0 ] || { show_output; fail "guest->host seqpacket sender failed"; }
wait "$seq_pid" || fail "guest->host seqpacket: $(cat "$TEST_TMP/seq")"
grep -q '^vsock-tool: seqpacket ok=200' "$TEST_TMP/seq" || fail "guest->host seqpacket: $(cat "$TEST_TMP/seq")"
[ "$(guest_value echo-rc)" = 0 ] || { show_output; fail "seqpacket echo failed in the guest"; }
expect_output '^vsock-tool: seqpacket echo ok=200'
wait "$echo_pid" || fail "host seqpacket echo: $(cat "$TEST_TMP/seq-echo")"
[ "$(guest_value mismatch-rc)" = 1 ] || { show_output; fail "seqpacket connect to a stream listener did not fail"; }
expect_output '^vsock-tool: connect: Connection reset by peer'
echo "ok: seqpacket guest->host 200 messages, 200 echoed back, refused by a stream listener"
