#!/usr/bin/env bash
# --rng: the guest's /dev/hwrng is the virtio-rng device (rng_current names
# virtio_rng) and reads 1 MiB of data that is neither zeros nor repeated, next
# to a disk (the rng takes the virtio-mmio slot after it). With --no-acpi the
# kernel command line names both slots. A key --rng does not know: exit 2, one
# line naming it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
truncate -s 16M "$TEST_TMP/disk.img"

for spec in "foo=1" "colour=blue,bw=1M"; do
	rc=0
	run_guest run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD" --rng "$spec" || rc=$?
	expect_status 2 "$rc"
	key=${spec%%=*}
	if [ "$(wc -l <"$GUEST_ERR")" != 1 ] || ! grep -q "^cvmm: --rng: .*'$key'" "$GUEST_ERR"; then
		cat "$GUEST_ERR" >&2
		fail "--rng $spec: expected one 'cvmm: --rng' line naming '$key'"
	fi
	echo "--rng $spec: $(cat "$GUEST_ERR")"
done

# 1 MiB in an L1 too, where every request is a nested exit and an interrupt
# under QEMU TCG: lib.sh gives the guest 420 s there.
bytes=1048576
# Random data neither holds many zero bytes (about 1 in 256) nor compresses.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "n=$bytes"'
echo 1 >/proc/sys/kernel/printk # kernel messages would split our lines
echo "cvmm-test: rng_current=$(cat /sys/class/misc/hw_random/rng_current)"
echo "cvmm-test: vda=$([ -e /sys/block/vda ] && echo present || echo absent)"
t0=$(date +%s)
head -c "$n" /dev/hwrng >/tmp/a
echo "cvmm-test: secs=$(($(date +%s) - t0))"
echo "cvmm-test: size=$(wc -c </tmp/a)"
echo "cvmm-test: nonzero=$(tr -d "\000" </tmp/a | wc -c)"
echo "cvmm-test: gzip=$(gzip -c /tmp/a | wc -c)"
head -c 4096 /dev/hwrng >/tmp/b
[ "$(head -c 4096 /tmp/a | md5sum)" != "$(md5sum </tmp/b)" ] && echo "cvmm-test: reads=differ"' \
	"$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256 \
	--disk "path=$TEST_TMP/disk.img" --rng || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: rng_current=virtio_rng\.0$'
expect_output '^cvmm-test: vda=present$'
expect_output "^cvmm-test: size=$bytes\$"
nonzero=$(guest_value nonzero)
gz=$(guest_value gzip)
if [ -z "$nonzero" ] || [ "$nonzero" -le $((bytes - bytes / 128)) ]; then
	fail "only '$nonzero' of $bytes bytes are not zero"
fi
if [ -z "$gz" ] || [ "$gz" -lt "$bytes" ]; then
	fail "$bytes bytes from /dev/hwrng gzip to '$gz' bytes"
fi
expect_output '^cvmm-test: reads=differ$'
echo "acpi: $(guest_value rng_current): $bytes bytes in $(guest_value secs) s," \
	"$nonzero not zero, $gz gzipped"

# Without ACPI, poweroff only halts: end with reboot -f (see test_no_acpi.sh).
# The stock kernel cannot use virtio_mmio.device= (test_disk_no_acpi.sh), so
# only the parameters are checked.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'echo "cvmm-test: cmdline=$(cat /proc/cmdline)"
reboot -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --no-acpi \
	--disk "path=$TEST_TMP/disk.img" --rng || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: cmdline=(.* )?virtio_mmio\.device=512@0xd0000000:5 (.* )?virtio_mmio\.device=512@0xd0001000:6( |$)'
echo "no-acpi: $(guest_value cmdline | grep -o 'virtio_mmio[^ ]*' | tr '\n' ' ')"
