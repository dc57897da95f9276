#!/usr/bin/env bash
# examples/minimal-vmm KERNEL INITRD boots to init and exits on guest poweroff.
. "$(dirname "$0")/lib.sh"
example=$REPO/build/examples/minimal-vmm
require_exe "$example"
make_initrd_with_test 'echo "cvmm-test: hello=example"' "$TEST_TMP/initrd"
rc=0
run_exe "$example" "$RIG_BZIMAGE" "$TEST_TMP/initrd" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_output '^cvmm-test: hello=example'
expect_status 0 "$rc"
