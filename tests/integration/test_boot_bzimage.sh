#!/usr/bin/env bash
# bzImage + initramfs boot to init; guest poweroff ends cvmm with status 0.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: hello=bzimage"' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_output '^cvmm-test: hello=bzimage'
expect_status 0 "$rc"
