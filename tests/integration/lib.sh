#!/usr/bin/env bash
# Helpers for tests/integration/test_*.sh (sourced). Each test is a bash script
# that exits 0 on success; run them through tests/integration/run.sh.
#
# Environment:
#   CVMM                     monitor under test (default $REPO/build/vmm/cvmm)
#   CVMM_TEST_GUEST_TIMEOUT  seconds one guest may run (default 60, 420 in an L1: two L1s share
#                            the cores in CI, and a loaded host stretches a boot past 100 s)
# Set after sourcing: REPO, CVMM, TEST_TMP (removed on exit), RIG_BZIMAGE,
# RIG_VMLINUX, RIG_INITRD (see tests/rig/assets.sh), GUEST_OUT, GUEST_STDOUT, GUEST_ERR.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CVMM=${CVMM:-$REPO/build/vmm/cvmm}
if [ "${CVMM_RIG_MODE:-}" = l1 ]; then
	GUEST_TIMEOUT=${CVMM_TEST_GUEST_TIMEOUT:-420}
else
	GUEST_TIMEOUT=${CVMM_TEST_GUEST_TIMEOUT:-60}
fi
eval "$("$REPO/tests/rig/assets.sh")"

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cvmm-test.XXXXXX")
trap 'rm -rf "$TEST_TMP"' EXIT
GUEST_STDOUT=$TEST_TMP/guest.stdout
GUEST_ERR=$TEST_TMP/guest.stderr
GUEST_OUT=$TEST_TMP/guest.out

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Fail early, with a clear message, when the monitor is not built.
require_exe() {
	[ -x "$1" ] || fail "$1 is not built (meson setup build && ninja -C build)"
}

# make_initrd_with_test SCRIPT_TEXT OUT [SRC:DEST...]
# OUT = base initramfs + an overlay holding SCRIPT_TEXT as /test.sh (run by the
# guest init, which powers off afterwards) and any extra files.
make_initrd_with_test() {
	local text=$1 out=$2
	shift 2
	printf '%s\n' "$text" >"$TEST_TMP/test.sh"
	"$REPO/tests/rig/mkinitrd-overlay.sh" "$TEST_TMP/overlay.cpio.gz" \
		"$TEST_TMP/test.sh:/test.sh" "$@"
	cat "$RIG_INITRD" "$TEST_TMP/overlay.cpio.gz" >"$out"
}

# run_exe EXE ARGS...: run under the guest timeout with stdin from /dev/null.
# stdout -> $GUEST_STDOUT, stderr -> $GUEST_ERR, both (stdout first, CRs
# dropped) -> $GUEST_OUT. Returns the exit status (124: timed out).
run_exe() {
	local rc=0
	timeout -k 5 "$GUEST_TIMEOUT" "$@" </dev/null >"$GUEST_STDOUT" 2>"$GUEST_ERR" || rc=$?
	cat "$GUEST_STDOUT" "$GUEST_ERR" | tr -d '\r' >"$GUEST_OUT"
	return "$rc"
}

# run_guest ARGS...: run_exe "$CVMM" ARGS...
run_guest() {
	require_exe "$CVMM"
	run_exe "$CVMM" "$@"
}

show_output() {
	echo "--- last 40 lines of output ($*) ---" >&2
	tail -n 40 "$GUEST_OUT" >&2
	echo "---" >&2
}

# expect_output ERE: the captured output has a line matching it.
expect_output() {
	if ! grep -Eq -- "$1" "$GUEST_OUT"; then
		echo "expected output matching: $1" >&2
		show_output "$CVMM"
		exit 1
	fi
}

# expect_status WANT GOT: compare exit statuses, showing the output on mismatch.
expect_status() {
	if [ "$1" != "$2" ]; then
		echo "expected exit status $1, got $2$([ "$2" = 124 ] && echo ' (timed out)')" >&2
		show_output "$CVMM"
		exit 1
	fi
}

# guest_value KEY: the value of the last "cvmm-test: KEY=VALUE" line.
guest_value() {
	sed -n "s/^cvmm-test: $1=//p" "$GUEST_OUT" | tail -n 1
}
