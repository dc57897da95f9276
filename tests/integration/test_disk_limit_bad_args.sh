#!/usr/bin/env bash
# Bad --disk bw= / iops= values: cvmm exits 2 with one `cvmm: --disk` stderr
# line naming the key, before any VM exists (no guest boots; a guest that did
# would sit in the initramfs shell until the short timeout below).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/disk-lib.sh
. "$(dirname "$0")/disk-lib.sh"
GUEST_TIMEOUT=30
truncate -s 16M "$TEST_TMP/disk.img"
boot=(run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD")

try() { # KEY VALUE (appended to the disk spec as given)
	local rc=0
	run_guest "${boot[@]}" --disk "path=$TEST_TMP/disk.img,$2" || rc=$?
	expect_disk_error "$rc"
	grep -q "'$1'" "$GUEST_ERR" || fail "$2: the error does not name '$1': $(cat "$GUEST_ERR")"
	echo "$2: $(cat "$GUEST_ERR")"
}
try iops iops=abc
try bw bw=
try bw bw=1/0
try bw bw
try iops iops=-5
try iops iops=1+
try bw bw=4X
try bw bw=0+5
try iops iops=18446744073709551616
try bw "engine=sync,bw=1/4294967296,iops=100"
try iops "bw=4M,iops=100/"
