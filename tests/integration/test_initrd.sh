#!/usr/bin/env bash
# A random file in the initrd reads back intact in the guest.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
head -c 300000 /dev/urandom >"$TEST_TMP/data.bin"
want=$(sha256sum "$TEST_TMP/data.bin" | cut -d' ' -f1)
make_initrd_with_test 'echo "cvmm-test: sha256=$(sha256sum /data.bin | cut -d" " -f1)"' \
	"$TEST_TMP/initrd" "$TEST_TMP/data.bin:/data.bin"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" || rc=$?
expect_status 0 "$rc"
got=$(guest_value sha256)
if [ "$got" != "$want" ]; then
	echo "sha256 in guest '$got' != host '$want'" >&2
	show_output initrd
	exit 1
fi
