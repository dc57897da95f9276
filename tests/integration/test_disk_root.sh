#!/usr/bin/env bash
# `--disk path=root.img,root` boots into the disk: the initramfs /init mounts
# root=/dev/vda and switch_roots into its /sbin/init, which reports and powers off.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
# Without root= support the guest would sit in the demo shell until the timeout.
zcat "$RIG_INITRD" | (cd "$TEST_TMP" && cpio -i --quiet init)
grep -q switch_root "$TEST_TMP/init" ||
	fail "the base initramfs /init has no root= support (tests/rig/assets.sh)"
root=$TEST_TMP/rootfs
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev" "$root/tmp"
cp "$RIG_BUSYBOX" "$root/bin/busybox"
for a in sh mount umount cat echo grep cut ls poweroff sync; do
	ln -s busybox "$root/bin/$a"
done
cat >"$root/sbin/init" <<'INIT'
#!/bin/sh
mount -t proc proc /proc
echo "cvmm-rootfs: init reached"
echo "cvmm-rootfs: root=$(grep ' / ' /proc/mounts | cut -d' ' -f1,3)"
poweroff -f
INIT
chmod 755 "$root/sbin/init"
mkfs_ext4_dir "$TEST_TMP/root.img" 32 "$root"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD" \
	--disk "path=$TEST_TMP/root.img,root" || rc=$?
expect_output '^cvmm-rootfs: init reached$'
expect_output '^cvmm-rootfs: root=/dev/vda ext4$'
expect_status 0 "$rc"
