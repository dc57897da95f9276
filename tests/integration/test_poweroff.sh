#!/usr/bin/env bash
# Guest `poweroff -f` ends cvmm with status 0 (a hang hits the guest timeout: 124).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: powering=off"
poweroff -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" || rc=$?
expect_output '^cvmm-test: powering=off'
expect_status 0 "$rc"
