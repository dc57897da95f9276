#!/usr/bin/env bash
# --cmdline replaces the default command line; its tokens reach /proc/cmdline.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: cmdline=$(cat /proc/cmdline)"' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--cmdline "console=ttyS0 reboot=k panic=1 cvmmtest.token=abc123" || rc=$?
expect_status 0 "$rc"
expect_output '^cvmm-test: cmdline=(.* )?cvmmtest\.token=abc123( |$)'
