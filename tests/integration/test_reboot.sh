#!/usr/bin/env bash
# Guest `reboot -f` (reboot=k: i8042 reset) ends cvmm with status 0.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: rebooting=yes"
reboot -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" || rc=$?
expect_output '^cvmm-test: rebooting=yes'
expect_status 0 "$rc"
