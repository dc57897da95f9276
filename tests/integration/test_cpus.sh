#!/usr/bin/env bash
# --cpus N: the guest sees N online CPUs.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: nproc=$(nproc)"
echo "cvmm-test: cpuinfo=$(grep -c ^processor /proc/cpuinfo)"' "$TEST_TMP/initrd"
for n in 2 4; do
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --cpus "$n" || rc=$?
	expect_status 0 "$rc"
	expect_output '^cvmm-guest: init reached'
	got_nproc=$(guest_value nproc)
	got_cpuinfo=$(guest_value cpuinfo)
	if [ "$got_nproc" != "$n" ] || [ "$got_cpuinfo" != "$n" ]; then
		echo "--cpus $n: guest nproc=$got_nproc, /proc/cpuinfo processors=$got_cpuinfo" >&2
		show_output "--cpus $n"
		exit 1
	fi
done
