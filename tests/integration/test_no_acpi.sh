#!/usr/bin/env bash
# --no-acpi: the guest finds its CPUs via the MP table and still boots. Without
# shellcheck disable=SC2016 # the single-quoted text is the guest script
# ACPI poweroff only halts, so end with reboot -f.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: acpi_tables=$(ls /sys/firmware/acpi/tables 2>/dev/null | wc -l)"
echo "cvmm-test: nproc=$(nproc)"
reboot -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --no-acpi --cpus 2 || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: acpi_tables=0$'
expect_output '^cvmm-test: nproc=2$'
