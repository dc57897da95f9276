#!/usr/bin/env bash
# --no-acpi with a disk: cvmm describes the virtio-mmio device on the kernel
# command line (virtio_mmio.device=SIZE@BASE:GSI) since there is no DSDT.
# What is verified: the guest's /proc/cmdline carries that parameter for the
# first disk's slot. What is not: the disk itself, because the stock Debian
# kernel is built without CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES, so virtio_mmio
# has no `device=` parameter and the guest cannot find the disk this way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
truncate -s 16M "$TEST_TMP/disk.img"
# Without ACPI, poweroff only halts: end with reboot -f (see test_no_acpi.sh).
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'echo "cvmm-test: cmdline=$(cat /proc/cmdline)"
echo "cvmm-test: vda=$([ -e /sys/block/vda ] && echo present || echo absent)"
reboot -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --no-acpi \
	--disk "path=$TEST_TMP/disk.img" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: cmdline=(.* )?virtio_mmio\.device=512@0xd0000000:5( |$)'
config=$RIG_CACHE/kernel/boot/config-$RIG_KVER
if grep -q '^CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES=y' "$config" 2>/dev/null; then
	expect_output '^cvmm-test: vda=present$'
else
	echo "SKIP (partly): /dev/vda not checked: $RIG_KVER has no CONFIG_VIRTIO_MMIO_CMDLINE_DEVICES," \
		"so its virtio_mmio ignores virtio_mmio.device= (guest says: $(guest_value vda))"
fi
