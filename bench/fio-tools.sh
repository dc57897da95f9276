#!/usr/bin/env bash
# Sourced by the benches that run fio in a guest: the busybox initramfs has
# none, so fio, its shared libraries and the dynamic loader travel on an ext4
# disk. In the guest, with that disk mounted at /opt, run $BENCH_GUEST_FIO.
# shellcheck disable=SC2034 # used by the benches that source this file
BENCH_GUEST_FIO="/opt/lib/ld-linux-x86-64.so.2 --library-path /opt/lib /opt/fio"

# bench_fio_tools IMG: that disk, as a 192 MiB image; exits if the host has no fio.
bench_fio_tools() {
	local fio dir
	fio=$(command -v fio) || { echo "bench: fio is not installed on the host" >&2; exit 1; }
	dir=$(mktemp -d "${TMPDIR:-/tmp}/cvmm-bench-tools.XXXXXX")
	mkdir -p "$dir/lib"
	cp "$fio" "$dir/fio"
	ldd "$fio" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' | while read -r lib; do
		cp -L "$lib" "$dir/lib/"
	done
	truncate -s 192M "$1"
	PATH=$PATH:/usr/sbin:/sbin mkfs.ext4 -q -F -d "$dir" "$1"
	rm -rf "$dir"
}
