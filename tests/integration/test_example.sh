#!/usr/bin/env bash
# examples/minimal-vmm KERNEL INITRD boots to init. It has no ACPI, so the guest
# ends it with a reset (reboot -f, reboot=k), which makes it exit 0.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
example=$REPO/build/examples/minimal-vmm
require_exe "$example"
make_initrd_with_test 'echo "cvmm-test: hello=example"
reboot -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_exe "$example" "$RIG_BZIMAGE" "$TEST_TMP/initrd" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_output '^cvmm-test: hello=example'
expect_status 0 "$rc"
