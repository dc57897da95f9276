#!/usr/bin/env bash
# ELF vmlinux boot through its Xen PVH entry note.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: hello=pvh"' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_VMLINUX" --initrd "$TEST_TMP/initrd" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_output '^cvmm-test: hello=pvh'
expect_status 0 "$rc"
