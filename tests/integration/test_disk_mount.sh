#!/usr/bin/env bash
# An ext4 image made on the host is readable in the guest: the guest's sha256
# of a random file on /dev/vda equals the host's.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
mkdir -p "$TEST_TMP/fs/data"
head -c 3000000 /dev/urandom >"$TEST_TMP/fs/data/rand.bin"
want=$(sha256sum "$TEST_TMP/fs/data/rand.bin" | cut -d' ' -f1)
mkfs_ext4_dir "$TEST_TMP/disk.img" 32 "$TEST_TMP/fs"
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test 'mount -t ext4 -o ro /dev/vda /mnt || echo "cvmm-test: mount failed"
echo "cvmm-test: sha=$(sha256sum /mnt/data/rand.bin | cut -d" " -f1)"
umount /mnt' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--disk "path=$TEST_TMP/disk.img" || rc=$?
expect_output '^cvmm-guest: init reached'
expect_status 0 "$rc"
[ "$(guest_value sha)" = "$want" ] || { show_output; fail "guest sha256 '$(guest_value sha)' != host '$want'"; }
