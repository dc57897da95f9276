#!/usr/bin/env bash
# Helpers for the vsock tests (sourced after lib.sh): the vsock tool built for
# the host ($VT) and, static, for the guest (/vt in the initrd overlay), and
# a monitor running in the background while the host side drives it.
VT=$TEST_TMP/vt
cc -O2 -Wall -o "$VT" "$REPO/tests/integration/guest/vsock-tool.c" || fail "cannot build vsock-tool"
cc -static -O2 -Wall -o "$TEST_TMP/vt-guest" "$REPO/tests/integration/guest/vsock-tool.c" ||
	fail "cannot build guest/vsock-tool.c (static libc needed: libc6-dev)"
UDS=$TEST_TMP/v.sock
# One guest runs every scenario, at nested speed on a shared machine.
[ "${CVMM_RIG_MODE:-}" != l1 ] || GUEST_TIMEOUT=${CVMM_TEST_GUEST_TIMEOUT:-840}

# start_guest ARGS...: cvmm run ARGS in the background (output to $GUEST_OUT
# as it comes, CRs kept); GUEST_PID is its pid.
start_guest() {
	require_exe "$CVMM"
	timeout -k 5 "$GUEST_TIMEOUT" "$CVMM" "$@" </dev/null >"$GUEST_OUT" 2>&1 &
	GUEST_PID=$!
}

# wait_guest: the monitor's exit status (it must exit by itself).
wait_guest() {
	local rc=0
	wait "$GUEST_PID" || rc=$?
	tr -d '\r' <"$GUEST_OUT" >"$GUEST_OUT.clean" && mv "$GUEST_OUT.clean" "$GUEST_OUT"
	return "$rc"
}

# wait_for ERE: until the guest's output has a line matching it (or the
# monitor exits: then fail).
wait_for() {
	until tr -d '\r' <"$GUEST_OUT" | grep -Eq -- "$1"; do
		kill -0 "$GUEST_PID" 2>/dev/null || { show_output; fail "monitor exited before: $1"; }
		sleep 0.5
	done
}

# The scenarios both back ends run (test_vsock_hybrid.sh, test_vsock_vhost.sh),
# with one guest: host_addr PORT / host_listen_addr PORT (set by the test)
# give the host side's addresses. A test may add guest script lines in
# VSOCK_GUEST_EXTRA (run before the last scenario) and define
# vsock_host_extra, the host's part, run at that point.
#  - host->guest 64 MiB (guest shuts its write side first: half-close), and
#    guest->host 64 MiB (host shuts first), sha256 checked at both ends;
#  - 100 concurrent echo connections each way;
#  - a connect to a port nobody listens on, from each side, fails;
#  - the guest process killed mid-stream: the host reader sees EOF;
#  - the host reader vanishing mid-stream (closing with data unread after
#    1 MiB): the guest writer gets an error;
#  - the guest powers off (exit 0).
# Each host connect goes once, after the guest tool says it listens.
VSOCK_SIZE=$((64 << 20))

# vsock_scenarios_start CVMM_ARGS...: initrd, host listeners, monitor.
vsock_scenarios_start() {
	# shellcheck disable=SC2016 # the single-quoted text is the guest script
	make_initrd_with_test 'echo 1 >/proc/sys/kernel/printk # kernel messages would split our lines
echo "cvmm-test: vsock-up"
echo "cvmm-test: h2g=$(/vt vsock-listen:5000 </dev/null | sha256sum | cut -d" " -f1)"
/vt -g '$VSOCK_SIZE' vsock-connect:2:5001 >/dev/null
echo "cvmm-test: g2h-rc=$?"
/vt -c 100 -g 65536 vsock-connect:2:5002
/vt -e -k 100 vsock-listen:5003
echo "cvmm-test: h2g-echo-done"
/vt vsock-connect:2:5999 </dev/null
echo "cvmm-test: refused-rc=$?"
mkdir -p /tmp
/vt -g 4000000000 -m 1048576 vsock-connect:2:5004 >/dev/null 2>/tmp/w &
pid=$!
until grep -q "sent" /tmp/w || ! kill -0 $pid 2>/dev/null; do sleep 1; done
kill -9 $pid
echo "cvmm-test: killed-writer"
/vt -g 4000000000 vsock-connect:2:5005 >/dev/null
echo "cvmm-test: vanish-rc=$?"
'"${VSOCK_GUEST_EXTRA:-}"'
/vt vsock-listen:5010 </dev/null >/dev/null
echo "cvmm-test: all-done"' "$TEST_TMP/initrd" "$TEST_TMP/vt-guest:/vt"
	# Host listeners for the guest's connections, ready before it boots.
	"$VT" "$(host_listen_addr 5001)" </dev/null 2>/dev/null | sha256sum | cut -d' ' -f1 >"$TEST_TMP/g2h" &
	G2H_PID=$!
	"$VT" -e -k 100 "$(host_listen_addr 5002)" 2>/dev/null &
	ECHO_PID=$!
	("$VT" "$(host_listen_addr 5004)" </dev/null 2>/dev/null | wc -c >"$TEST_TMP/killed") &
	KILLED_PID=$!
	"$VT" "$(host_listen_addr 5005)" </dev/null 2>/dev/null | head -c 1048576 >/dev/null &
	start_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 "$@"
}

# vsock_stage WHAT: progress with the test's elapsed time (shown on failure).
vsock_stage() {
	echo "vsock-test: ${SECONDS}s: $*" >&2
}

# vsock_scenarios_finish REFUSED_ERE: drive the host side and check both;
# REFUSED_ERE matches the host tool's error for a guest port nobody bound.
vsock_scenarios_finish() {
	local want n rc=0
	want=$("$VT" -g $VSOCK_SIZE gen | sha256sum | cut -d' ' -f1)
	wait_for '^vsock-tool: listening on vsock-listen:5000'
	vsock_stage "streams"
	"$VT" -g $VSOCK_SIZE "$(host_addr 5000)" >/dev/null || { show_output; fail "host->guest stream failed"; }
	wait_for '^cvmm-test: h2g='
	wait "$G2H_PID" || true
	wait_for '^cvmm-test: g2h-rc='
	wait_for '^vsock-tool: listening on vsock-listen:5003'
	vsock_stage "100 host->guest"
	"$VT" -c 100 -g 65536 "$(host_addr 5003)" >"$TEST_TMP/h2g-echo" 2>&1 ||
		{ show_output; fail "host->guest echo: $(sort "$TEST_TMP/h2g-echo" | uniq -c)"; }
	wait_for '^cvmm-test: h2g-echo-done'
	vsock_stage "refusals"
	"$VT" "$(host_addr 5998)" </dev/null >/dev/null 2>"$TEST_TMP/h-refused" &&
		fail "host connect to a port nobody listens on succeeded"
	grep -Eq "$1" "$TEST_TMP/h-refused" || fail "host refused connect: $(cat "$TEST_TMP/h-refused")"
	wait_for '^cvmm-test: killed-writer'
	vsock_stage "aborts"
	wait "$KILLED_PID" # EOF reached the host reader, else the test times out
	wait_for '^cvmm-test: vanish-rc='
	[ -z "${VSOCK_GUEST_EXTRA:-}" ] || vsock_host_extra
	wait_for '^vsock-tool: listening on vsock-listen:5010'
	vsock_stage "last connect"
	"$VT" "$(host_addr 5010)" </dev/null >/dev/null || { show_output; fail "last host connect failed"; }
	wait_guest || rc=$?
	expect_status 0 "$rc"
	expect_output '^cvmm-test: all-done'
	[ "$(guest_value h2g)" = "$want" ] || { show_output; fail "host->guest data differs"; }
	[ "$(cat "$TEST_TMP/g2h")" = "$want" ] || fail "guest->host data differs"
	[ "$(guest_value g2h-rc)" = 0 ] || { show_output; fail "guest->host sender failed"; }
	expect_output '^vsock-tool: concurrent ok=100/100'
	wait "$ECHO_PID" || fail "host echo server failed"
	expect_output '^vsock-tool: connect: Connection reset by peer'
	[ "$(guest_value refused-rc)" = 1 ] || { show_output; fail "guest connect to nobody did not fail"; }
	n=$(cat "$TEST_TMP/killed")
	[ "$n" -gt 0 ] && [ "$n" -lt 4000000000 ] || fail "killed stream: host got $n bytes"
	[ "$(guest_value vanish-rc)" = 1 ] || { show_output; fail "guest did not see the host vanish"; }
	expect_output '^vsock-tool: (write|read): (Broken pipe|Connection reset by peer)'
}

# vsock_vhost_setup: vhost_vsock (with vsock, for the host's AF_VSOCK
# sockets) in the L1, which does not load them; already loaded is fine.
vsock_vhost_setup() {
	local m
	for m in net/vmw_vsock/vsock net/vmw_vsock/vmw_vsock_virtio_transport_common \
		drivers/vhost/vhost_iotlb drivers/vhost/vhost drivers/vhost/vhost_vsock; do
		"$RIG_BUSYBOX" insmod "$RIG_L1_MODDIR/kernel/$m.ko" 2>/dev/null || true
	done
	[ -c /dev/vhost-vsock ] || fail "no /dev/vhost-vsock after loading vhost_vsock"
}
