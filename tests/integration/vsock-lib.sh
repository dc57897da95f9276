#!/usr/bin/env bash
# Helpers for the vsock tests (sourced after lib.sh): the vsock tool built for
# the host ($VT) and, static, for the guest (/vt in the initrd overlay), and
# a monitor running in the background while the host side drives it.
VT=$TEST_TMP/vt
cc -O2 -Wall -o "$VT" "$REPO/tests/integration/guest/vsock-tool.c" || fail "cannot build vsock-tool"
cc -static -O2 -Wall -o "$TEST_TMP/vt-guest" "$REPO/tests/integration/guest/vsock-tool.c" ||
	fail "cannot build guest/vsock-tool.c (static libc needed: libc6-dev)"
UDS=$TEST_TMP/v.sock

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

# host_connect PORT ARGS...: vsock-tool uds-connect to guest PORT, retried
# while the guest has no listener yet (no OK comes back).
host_connect() {
	local port=$1 n=0
	shift
	until "$VT" "$@" "uds-connect:$UDS:$port"; do
		n=$((n + 1))
		[ "$n" -lt 120 ] || fail "guest port $port never accepted"
		kill -0 "$GUEST_PID" 2>/dev/null || { show_output; fail "monitor exited"; }
		sleep 1
	done
}
