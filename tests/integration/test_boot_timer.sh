#!/usr/bin/env bash
# --boot-timer: the guest init writes 123 to port 0x3f0; cvmm reports the time.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'true' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --boot-timer || rc=$?
expect_status 0 "$rc"
if ! grep -Eq '^cvmm: boot-timer: [0-9]+(\.[0-9]+)? ms$' "$GUEST_ERR"; then
	echo "no 'cvmm: boot-timer: <number> ms' line on stderr" >&2
	show_output --boot-timer
	exit 1
fi
