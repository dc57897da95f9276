#!/usr/bin/env bash
# Fetch and build the guest/L1 assets used by the integration tests and the
# boot bench. Idempotent: everything lives under $CVMM_RIG_CACHE (default
# ~/.cache/cvmm-rig) and is reused on later runs.
#
# Usage: eval "$(tests/rig/assets.sh)"
# Prints `export NAME=value` lines on stdout (logs go to stderr):
#   RIG_CACHE        the cache directory
#   RIG_KVER         guest/L1 kernel version (e.g. 6.1.0-37-amd64)
#   RIG_BZIMAGE      $CACHE/guest/bzImage
#   RIG_VMLINUX      $CACHE/guest/vmlinux (ELF with a Xen PVH note)
#   RIG_INITRD       $CACHE/guest/initramfs.cpio.gz
#   RIG_BUSYBOX      static busybox used for the initramfs images
#   RIG_L1_KERNEL    kernel booted as L1 under QEMU TCG (same Debian kernel)
#   RIG_L1_MODDIR    its lib/modules/<ver> directory on the host
#   RIG_L1_KVM_MODULES  space-separated .ko paths, load order: irqbypass ccp kvm kvm-amd
#   RIG_L1_NET_MODULES  the same for tun and vhost_net (with their dependencies)
set -euo pipefail

RIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${CVMM_RIG_CACHE:-$HOME/.cache/cvmm-rig}
KPKG_META=linux-image-amd64

log() { printf 'assets: %s\n' "$*" >&2; }
die() { printf 'assets: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# Serialise concurrent callers (the runner and tests may call us at once).
exec 9>"$CACHE/.assets.lock"
flock 9

# Fast path (matters in an L1, where every file read is slow): reuse the
# previous answer while it is newer than the scripts it came from.
ENVFILE=$CACHE/assets.env
if [ -f "$ENVFILE" ] && [ "$ENVFILE" -nt "${BASH_SOURCE[0]}" ] && [ "$ENVFILE" -nt "$RIG_DIR/l1-init.sh" ] &&
	[ -f "$CACHE/guest/initramfs.cpio.gz" ] && [ -f "$CACHE/l1/initramfs.cpio.gz" ]; then
	cat "$ENVFILE"
	exit 0
fi

# apt-get update only when apt does not know the package (fresh container).
apt_ensure_known() {
	local pkg=$1
	if ! apt-cache show "$pkg" >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "apt does not know $pkg and we are not root to run apt-get update"
		log "apt lists lack $pkg, running apt-get update"
		apt-get update -qq >&2
	fi
}

# Download a package .deb into $CACHE/deb and print its path. apt-get runs in
# a fresh /tmp dir the _apt sandbox user can write to (the cache may sit in a
# 0700 home), so apt does not warn about an unsandboxed download.
apt_fetch() {
	local pkg=$1 deb tmp
	mkdir -p "$CACHE/deb"
	deb=$(find "$CACHE/deb" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
	if [ -z "$deb" ]; then
		apt_ensure_known "$pkg"
		tmp=$(mktemp -d)
		chmod 0777 "$tmp"
		log "downloading $pkg"
		if ! (cd "$tmp" && apt-get download -q "$pkg" >&2); then
			# Stale lists give 404s: refresh once and retry.
			[ "$(id -u)" = 0 ] || die "apt-get download $pkg failed"
			apt-get update -qq >&2
			(cd "$tmp" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
		fi
		mv "$tmp"/*.deb "$CACHE/deb/"
		rmdir "$tmp"
		deb=$(find "$CACHE/deb" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
	fi
	[ -n "$deb" ] || die "no .deb for $pkg"
	printf '%s\n' "$deb"
}

# --- kernel package -------------------------------------------------------
KDIR=$CACHE/kernel
if [ ! -e "$KDIR/.done" ]; then
	apt_ensure_known "$KPKG_META"
	kpkg=$(apt-cache depends "$KPKG_META" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
	[ -n "$kpkg" ] || die "cannot resolve the kernel package $KPKG_META depends on"
	deb=$(apt_fetch "$kpkg")
	log "extracting $(basename "$deb")"
	rm -rf "$KDIR" "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	dpkg-deb -x "$deb" "$KDIR.tmp"
	mv "$KDIR.tmp" "$KDIR"
	touch "$KDIR/.done"
fi
KVER=$(basename "$(find "$KDIR/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)")
[ -n "$KVER" ] || die "no lib/modules in $KDIR"
MODDIR=$KDIR/lib/modules/$KVER
L1_KERNEL=$KDIR/boot/vmlinuz-$KVER
[ -f "$L1_KERNEL" ] || die "missing $L1_KERNEL"

# --- static busybox -------------------------------------------------------
BUSYBOX=/bin/busybox
if ! file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked'; then
	BUSYBOX=$CACHE/busybox/bin/busybox
	if [ ! -x "$BUSYBOX" ]; then
		deb=$(apt_fetch busybox-static)
		rm -rf "$CACHE/busybox"
		dpkg-deb -x "$deb" "$CACHE/busybox"
	fi
fi

# --- module helpers (no kmod needed: read .modinfo with objcopy) ----------
mod_path() { # name -> path relative to $MODDIR; '-' and '_' are equivalent
	local n=$1 alt p
	alt=$(printf '%s' "$n" | tr '_-' '-_')
	p=$(cd "$MODDIR" && find kernel \( -name "$n.ko" -o -name "$n.ko.xz" -o -name "$alt.ko" \
		-o -name "$alt.ko.xz" \) -print -quit)
	[ -n "$p" ] || die "module $n not found in $MODDIR"
	printf '%s\n' "$p"
}

mod_deps() { # path -> names it needs first (depends + softdep pre, aliases mapped)
	local f=$MODDIR/$1 tmp
	tmp=$(mktemp)
	case "$f" in
	*.xz) xz -dc "$f" >"$tmp.ko" ;;
	*) cp "$f" "$tmp.ko" ;;
	esac
	objcopy -O binary --only-section=.modinfo "$tmp.ko" "$tmp"
	tr '\0' '\n' <"$tmp" | awk -F= '
		$1 == "depends" { n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] != "") print a[i] }
		$1 == "softdep" { s = $2; sub(/^pre: */, "", s); sub(/ *post:.*/, "", s)
		                  n = split(s, a, " "); for (i = 1; i <= n; i++) print a[i] }' |
		sed -e 's/^crypto-crc32c$/crc32c_generic/' -e 's/^crc32c$/crc32c_generic/'
	rm -f "$tmp" "$tmp.ko"
}

# Print module paths (relative to $MODDIR) in load order for the given names.
declare -A MOD_SEEN=()
mod_order() {
	local n p d
	for n in "$@"; do
		n=${n//-/_}
		[ -z "${MOD_SEEN[$n]:-}" ] || continue
		MOD_SEEN[$n]=1
		p=$(mod_path "$n")
		for d in $(mod_deps "$p"); do
			mod_order "$d"
		done
		printf '%s\n' "$p"
	done
}

# Copy modules (decompressed) into an initramfs staging root; writes the load
# order (one path per line, absolute inside the image) to $root/etc/modules.order.
stage_modules() {
	local root=$1 p dst
	shift
	MOD_SEEN=()
	mkdir -p "$root/etc" "$root/lib/modules/$KVER"
	: >"$root/etc/modules.order"
	while read -r p; do
		dst=$root/lib/modules/$KVER/${p%.xz}
		mkdir -p "$(dirname "$dst")"
		case "$p" in
		*.xz) xz -dc "$MODDIR/$p" >"$dst" ;;
		*) cp "$MODDIR/$p" "$dst" ;;
		esac
		printf '/lib/modules/%s/%s\n' "$KVER" "${p%.xz}" >>"$root/etc/modules.order"
	done < <(mod_order "$@")
}

stage_busybox() {
	local root=$1 a
	mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" \
		"$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/root" "$root/mnt"
	chmod 1777 "$root/tmp"
	cp "$BUSYBOX" "$root/bin/busybox"
	for a in $("$BUSYBOX" --list-full); do
		[ "$a" = bin/busybox ] || [ -e "$root/$a" ] || ln -s /bin/busybox "$root/$a"
	done
	# Lets the kernel give init a console before devtmpfs is mounted.
	mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
}

pack_cpio() { # root out
	(cd "$1" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc -R 0:0 --quiet) | gzip -9n >"$2.tmp"
	mv "$2.tmp" "$2"
}

# Rebuild the images when this script (guest init), l1-init.sh or the kernel change.
STAMP=$(cat "${BASH_SOURCE[0]}" "$RIG_DIR/l1-init.sh" "$L1_KERNEL" | sha256sum | cut -c1-16)

# --- guest: bzImage, vmlinux, initramfs -----------------------------------
GDIR=$CACHE/guest
mkdir -p "$GDIR"
if [ ! -f "$GDIR/bzImage" ] || ! cmp -s "$L1_KERNEL" "$GDIR/bzImage"; then
	cp "$L1_KERNEL" "$GDIR/bzImage"
	rm -f "$GDIR/vmlinux"
fi
if [ ! -f "$GDIR/vmlinux" ]; then
	log "extracting vmlinux from bzImage"
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$GDIR/bzImage" | head -n1 | cut -d: -f1)
	[ -n "$off" ] || die "no xz stream in bzImage"
	# The payload is followed by trailer bytes, so xz complains; check the result instead.
	tail -c +"$((off + 1))" "$GDIR/bzImage" | xz -dc --single-stream >"$GDIR/vmlinux.tmp" 2>/dev/null || true
	file "$GDIR/vmlinux.tmp" | grep -q 'ELF 64-bit' || die "extracted vmlinux is not an ELF"
	readelf -n "$GDIR/vmlinux.tmp" | grep -Eq '^[[:space:]]*Xen[[:space:]].*\(0x00000012\)' ||
		die "vmlinux has no Xen PVH (type 0x12) note"
	mv "$GDIR/vmlinux.tmp" "$GDIR/vmlinux"
fi

GUEST_MODULES="virtio virtio_ring virtio_mmio virtio_blk crc32c_generic libcrc32c ext4 virtio_rng vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport failover net_failover virtio_net"

if [ ! -f "$GDIR/initramfs.cpio.gz" ] || [ "$(cat "$GDIR/.stamp" 2>/dev/null)" != "$STAMP" ]; then
	log "building guest initramfs"
	root=$(mktemp -d)
	stage_busybox "$root"
	# shellcheck disable=SC2086
	stage_modules "$root" $GUEST_MODULES
	cat >"$root/init" <<'EOF'
#!/bin/sh
# cvmm test guest init.
mount -t devtmpfs devtmpfs /dev 2>/dev/null
# Boot-timer mark: byte 123 to I/O port 0x3f0 (cvmm --boot-timer).
printf '\173' | dd of=/dev/port bs=1 seek=1008 count=1 2>/dev/null
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
echo "cvmm-guest: init reached"
# insmod does not read /proc/cmdline as modprobe would: pass `mod.param=` ourselves.
failed=""
while read -r ko; do
	name=${ko##*/}
	name=${name%.ko}
	uname=$(echo "$name" | tr - _)
	params=""
	for tok in $(cat /proc/cmdline); do
		case "$tok" in
		"$name".* | "$uname".*) params="$params ${tok#*.}" ;;
		esac
	done
	# shellcheck disable=SC2086
	insmod "$ko" $params 2>/dev/null || failed="$failed $name"
done </etc/modules.order
[ -z "$failed" ] || echo "cvmm-guest: insmod failed:$failed"
if [ -f /test.sh ]; then
	sh /test.sh
	echo "cvmm-guest: test.sh exit=$?"
	poweroff -f
fi
# root=DEV (e.g. from cvmm --disk ...,root): boot into that disk's /sbin/init.
root=""
rootfstype=ext4
rootmode=ro
for tok in $(cat /proc/cmdline); do
	case "$tok" in
	root=*) root=${tok#root=} ;;
	rootfstype=*) rootfstype=${tok#rootfstype=} ;;
	rw | ro) rootmode=$tok ;;
	esac
done
if [ -n "$root" ]; then
	n=0
	while [ ! -b "$root" ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	mkdir -p /newroot
	if mount -t "$rootfstype" -o "$rootmode" "$root" /newroot; then
		umount /proc /sys
		if [ -d /newroot/dev ]; then mount --move /dev /newroot/dev; else umount /dev; fi
		exec switch_root /newroot /sbin/init
	fi
	echo "cvmm-guest: cannot mount root=$root ($rootfstype, $rootmode)"
	poweroff -f
fi
echo "cvmm-guest: demo mode: interactive shell on the console; exit it to power off"
setsid cttyhack sh
poweroff -f
EOF
	chmod 755 "$root/init"
	pack_cpio "$root" "$GDIR/initramfs.cpio.gz"
	rm -rf "$root"
	echo "$STAMP" >"$GDIR/.stamp"
fi

# --- L1 initramfs (booted by rig.sh under QEMU TCG) -----------------------
L1DIR=$CACHE/l1
mkdir -p "$L1DIR"
L1_MODULES="virtio_pci 9pnet_virtio 9p virtio_blk irqbypass ccp kvm kvm_amd"
if [ ! -f "$L1DIR/initramfs.cpio.gz" ] || [ "$(cat "$L1DIR/.stamp" 2>/dev/null)" != "$STAMP" ]; then
	log "building L1 initramfs"
	root=$(mktemp -d)
	stage_busybox "$root"
	# shellcheck disable=SC2086
	stage_modules "$root" $L1_MODULES
	cp "$RIG_DIR/l1-init.sh" "$root/init"
	chmod 755 "$root/init"
	pack_cpio "$root" "$L1DIR/initramfs.cpio.gz"
	rm -rf "$root"
	echo "$STAMP" >"$L1DIR/.stamp"
fi

kvm_mods=""
MOD_SEEN=()
for p in $(mod_order irqbypass ccp kvm kvm_amd); do
	kvm_mods="$kvm_mods $MODDIR/$p"
done

# TAP and vhost-net, for the network tests (loaded by tests/integration/net-lib.sh).
net_mods=""
MOD_SEEN=()
for p in $(mod_order tun vhost_net); do
	net_mods="$net_mods $MODDIR/$p"
done

emit() { printf 'export %s=%q\n' "$1" "$2"; }
{
	emit RIG_CACHE "$CACHE"
	emit RIG_KVER "$KVER"
	emit RIG_BZIMAGE "$GDIR/bzImage"
	emit RIG_VMLINUX "$GDIR/vmlinux"
	emit RIG_INITRD "$GDIR/initramfs.cpio.gz"
	emit RIG_BUSYBOX "$BUSYBOX"
	emit RIG_L1_KERNEL "$L1_KERNEL"
	emit RIG_L1_INITRD "$L1DIR/initramfs.cpio.gz"
	emit RIG_L1_MODDIR "$MODDIR"
	emit RIG_L1_KVM_MODULES "${kvm_mods# }"
	emit RIG_L1_NET_MODULES "${net_mods# }"
} >"$ENVFILE.tmp"
mv "$ENVFILE.tmp" "$ENVFILE"
cat "$ENVFILE"
