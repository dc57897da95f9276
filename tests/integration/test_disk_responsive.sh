#!/usr/bin/env bash
# A busy disk does not starve the rest of the VM: while 32 readers keep 32
# O_DIRECT reads in flight on the first disk, the guest reads a known pattern
# from the second disk and prints a line on the console. With engine=sync and
# engine=io_uring, the second disk's data is right, the line appears, the first
# disk kept completing reads meanwhile, and the guest powers off (exit 0).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
require_exe "$CVMM"
truncate -s 64M "$TEST_TMP/busy.img"
head -c 16M /dev/urandom >"$TEST_TMP/pattern.img"
want=$(region_sha256 "$TEST_TMP/pattern.img" 8)
# Each reader loops over a 4 MiB slice of /dev/vda in 64 KiB direct reads until
# /tmp/stop. Readers run at nice 19 (-10 + 29), the rest at nice -10 (busybox
# has renice but no nice), so that the guest's own scheduler on its one slow
# nested vCPU does not keep the second disk's reader waiting for CPU; the guest
# polls sysfs with shell builtins only.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'renice -n -10 -p $$ >/dev/null
for i in $(seq 0 31); do
	sh -c "renice -n 29 -p \$\$ >/dev/null; while [ ! -e /tmp/stop ]; do
		dd if=/dev/vda of=/dev/null bs=64k count=64 skip=$((i * 16)) iflag=direct 2>/dev/null
	done" &
done
read -r start _ </sys/block/vda/stat
n=0
while read -r now _ </sys/block/vda/stat && [ "$now" -lt $((start + 256)) ] && [ $n -lt 1200 ]; do
	sleep 0.1
	n=$((n + 1))
done
read -r before _ </sys/block/vda/stat
sha=$(dd if=/dev/vdb bs=1M count=8 iflag=direct 2>/dev/null | sha256sum | cut -d" " -f1)
read -r after _ </sys/block/vda/stat
echo "cvmm-test: vdb=$sha"
echo "cvmm-test: console line while vda is busy"
echo "cvmm-test: vda-reads-meanwhile=$((after - before))"
touch /tmp/stop
wait
echo "cvmm-test: readers stopped"' "$TEST_TMP/initrd"
for engine in sync io_uring; do
	t0=$SECONDS
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
		--disk "path=$TEST_TMP/busy.img,engine=$engine" \
		--disk "path=$TEST_TMP/pattern.img,engine=$engine,ro" || rc=$?
	expect_output '^cvmm-guest: init reached'
	expect_status 0 "$rc"
	expect_output '^cvmm-test: console line while vda is busy$'
	expect_output '^cvmm-test: readers stopped$'
	[ "$(guest_value vdb)" = "$want" ] ||
		{ show_output; fail "engine=$engine: /dev/vdb read back wrong data under load"; }
	[ "$(guest_value vda-reads-meanwhile)" -gt 0 ] ||
		{ show_output; fail "engine=$engine: /dev/vda completed no reads meanwhile (load not running?)"; }
	echo "engine=$engine: ok ($((SECONDS - t0)) s, vda reads meanwhile: $(guest_value vda-reads-meanwhile))"
done
