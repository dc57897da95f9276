#!/usr/bin/env bash
# --vsock vhost=on: the scenarios of vsock-lib.sh with the kernel's
# vhost-vsock as the data path; the host side uses AF_VSOCK (the guest is
# CID 3). The L1 gets vhost_vsock and its dependencies loaded here. Plus
# SEQPACKET (offered since vhost has it): 200 messages of up to 60000 bytes
# each way, each read returning exactly one message.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/vsock-lib.sh"
require_exe "$CVMM"
vsock_vhost_setup
host_addr() { echo "vsock-connect:3:$1"; }
host_listen_addr() { echo "vsock-listen:$1"; }
VSOCK_GUEST_EXTRA='/vt -S 200 vsock-listen:5020
/vt -S 200 vsock-connect:2:5021
echo "cvmm-test: seq-rc=$?"'
vsock_host_extra() {
	wait_for '^vsock-tool: listening on vsock-listen:5020'
	vsock_stage "seqpacket"
	"$VT" -S 200 "vsock-connect:3:5020" || { show_output; fail "host->guest seqpacket failed"; }
	wait_for '^cvmm-test: seq-rc='
	[ "$(tr -d '\r' <"$GUEST_OUT" | sed -n 's/^cvmm-test: seq-rc=//p')" = 0 ] ||
		{ show_output; fail "guest->host seqpacket sender failed"; }
	wait "$seq_pid" || fail "guest->host seqpacket: $(cat "$TEST_TMP/seq")"
}
"$VT" -S 200 "vsock-listen:5021" >"$TEST_TMP/seq" 2>&1 &
seq_pid=$!
vsock_scenarios_start --vsock "cid=3,vhost=on"
vsock_scenarios_finish '^vsock-tool: connect: Connection reset by peer'
expect_output '^vsock-tool: seqpacket ok=200'
grep -q '^vsock-tool: seqpacket ok=200' "$TEST_TMP/seq" || fail "guest->host seqpacket: $(cat "$TEST_TMP/seq")"
echo "ok: vhost=on, 64 MiB each way, 100 connections each way, refusals, aborts, seqpacket"
