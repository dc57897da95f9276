#!/usr/bin/env bash
# --memory 512: MemTotal is 512 MiB minus what the kernel reserves for itself
# shellcheck disable=SC2016 # the single-quoted text is the guest script
# (the Debian 6.1 kernel keeps ~57 MiB: image, memmap, ...; QEMU q35 gives 455 MiB).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
make_initrd_with_test 'echo "cvmm-test: memtotal_kib=$(awk "/^MemTotal:/ { print \$2 }" /proc/meminfo)"' \
	"$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 512 || rc=$?
expect_status 0 "$rc"
kib=$(guest_value memtotal_kib)
if ! [ "$kib" -ge $((430 * 1024)) ] 2>/dev/null || [ "$kib" -gt $((512 * 1024)) ]; then
	echo "MemTotal ${kib:-?} KiB not within [430, 512] MiB" >&2
	show_output "--memory 512"
	exit 1
fi
