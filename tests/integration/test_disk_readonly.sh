#!/usr/bin/env bash
# A `,ro` disk is read-only to the guest: /sys/block/vda/ro is 1, a raw write
# and a file write both fail, and the image is byte-for-byte unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
mkdir -p "$TEST_TMP/fs"
echo original >"$TEST_TMP/fs/file.txt"
mkfs_ext4_dir "$TEST_TMP/disk.img" 32 "$TEST_TMP/fs"
before=$(sha256sum "$TEST_TMP/disk.img" | cut -d' ' -f1)
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'echo "cvmm-test: sysfs_ro=$(cat /sys/block/vda/ro)"
if dd if=/dev/zero of=/dev/vda bs=4096 count=16 conv=fsync 2>/dev/null; then
	echo "cvmm-test: raw_write=ok"
else
	echo "cvmm-test: raw_write=failed"
fi
# busybox mount falls back to read-only on a write-protected device.
mount -t ext4 -o rw /dev/vda /mnt 2>&1
echo "cvmm-test: mounted=$(grep -c " /mnt " /proc/mounts)"
if echo changed >/mnt/file.txt 2>/dev/null && sync; then
	echo "cvmm-test: file_write=ok"
else
	echo "cvmm-test: file_write=failed"
fi
echo "cvmm-test: content=$(cat /mnt/file.txt)"
umount /mnt 2>/dev/null' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--disk "path=$TEST_TMP/disk.img,ro" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: sysfs_ro=1$'
expect_output '^cvmm-test: raw_write=failed$'
expect_output '^cvmm-test: file_write=failed$'
expect_output '^cvmm-test: content=original$'
after=$(sha256sum "$TEST_TMP/disk.img" | cut -d' ' -f1)
[ "$before" = "$after" ] || fail "read-only image changed ($before -> $after)"
