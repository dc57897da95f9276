#!/usr/bin/env bash
# The serial console takes input from cvmm's stdin: a line longer than the
# UART's 16-byte FIFO reaches the guest whole (flow control, not loss).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
require_exe "$CVMM"
line="console-input-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkfifo "$TEST_TMP/stdin"
exec 5<>"$TEST_TMP/stdin" # keeps the pipe open for writing
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'echo "cvmm-test: ready"
read -r got
echo "cvmm-test: got=$got"' "$TEST_TMP/initrd"
GUEST_STDIN=$TEST_TMP/stdin start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" \
	--initrd "$TEST_TMP/initrd"
printf '%s\n' "$line" >&5
rc=0
# run_guest's time limit, for a guest that never gets the line.
(sleep "$GUEST_TIMEOUT"; kill -9 "$GUEST_PID" 2>/dev/null) &
watchdog=$!
wait_guest || rc=$?
kill "$watchdog" 2>/dev/null || true
expect_status 0 "$rc"
[ "$(guest_value got)" = "$line" ] || { show_output; fail "guest read '$(guest_value got)', expected '$line'"; }
