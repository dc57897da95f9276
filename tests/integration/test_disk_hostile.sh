#!/usr/bin/env bash
# A hostile guest cannot hang the monitor: a guest program drives the second
# disk's virtio-mmio window itself (guest/virtio-blk-hostile.c) and, in one
# notify each, publishes a valid read followed by a head index >= the queue
# size, then a valid read followed by a chain without a status byte, resetting
# the device after each. With engine=sync and engine=io_uring: every reset
# returns, the device serves a normal read afterwards, the first disk (driven
# by the guest kernel all along) still reads back its pattern, and the guest
# powers off (exit 0) within the guest timeout.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
require_exe "$CVMM"
cc -static -O2 -Wall -o "$TEST_TMP/hostile" "$REPO/tests/integration/guest/virtio-blk-hostile.c" ||
	fail "cannot build guest/virtio-blk-hostile.c (static libc needed: libc6-dev)"
head -c 8M /dev/urandom >"$TEST_TMP/pattern.img"
head -c 1M /dev/urandom >"$TEST_TMP/target.img"
want_vda=$(region_sha256 "$TEST_TMP/pattern.img" 8)
want_read=$(head -c 4096 "$TEST_TMP/target.img" | sha256sum | cut -d' ' -f1)
# Disk 0 (/dev/vda, 0xd0000000) is the untouched one; disk 1 (0xd0001000) the target.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test '/hostile 0xd0001000 /tmp/read && echo "cvmm-test: hostile=ok"
echo "cvmm-test: hostile-read-sha=$(sha256sum /tmp/read | cut -d" " -f1)"
echo "cvmm-test: vda=$(dd if=/dev/vda bs=1M count=8 2>/dev/null | sha256sum | cut -d" " -f1)"' \
	"$TEST_TMP/initrd" "$TEST_TMP/hostile:/hostile"
for engine in sync io_uring; do
	t0=$SECONDS
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
		--disk "path=$TEST_TMP/pattern.img,engine=$engine" \
		--disk "path=$TEST_TMP/target.img,engine=$engine" || rc=$?
	expect_output '^cvmm-guest: init reached'
	expect_status 0 "$rc"
	expect_output '^cvmm-test: hostile-unbound='
	expect_output '^cvmm-test: hostile-case1 needs_reset=1 '
	expect_output '^cvmm-test: hostile-case1-reset=done'
	expect_output '^cvmm-test: hostile-case2 needs_reset=1 '
	expect_output '^cvmm-test: hostile-case2-reset=done'
	expect_output '^cvmm-test: hostile-read used_len=4097 status=0$'
	expect_output '^cvmm-test: hostile=ok$'
	[ "$(guest_value hostile-read-sha)" = "$want_read" ] ||
		{ show_output; fail "engine=$engine: the read after the resets returned wrong data"; }
	[ "$(guest_value vda)" = "$want_vda" ] ||
		{ show_output; fail "engine=$engine: /dev/vda reads back wrong data after the attack"; }
	echo "engine=$engine: ok ($((SECONDS - t0)) s)"
	grep '^cvmm-test: hostile-case[12] ' "$GUEST_OUT" | sed 's/^/    /'
done
