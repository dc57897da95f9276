#!/usr/bin/env bash
# A file the guest writes to an ext4 disk (then sync, poweroff) is in the image.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
token=cvmm-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mkdir -p "$TEST_TMP/fs"
mkfs_ext4_dir "$TEST_TMP/disk.img" 32 "$TEST_TMP/fs"
make_initrd_with_test "mount -t ext4 /dev/vda /mnt || echo 'cvmm-test: mount failed'
echo $token >/mnt/guest.txt
sync
umount /mnt && echo 'cvmm-test: written=yes'" "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--disk "path=$TEST_TMP/disk.img" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
expect_output '^cvmm-test: written=yes$'
got=$(debugfs -R 'cat /guest.txt' "$TEST_TMP/disk.img" 2>/dev/null)
[ "$got" = "$token" ] || fail "image holds '$got', want '$token'"
