#!/usr/bin/env bash
# Install cvmm into a scratch prefix and build examples/minimal-vmm.c the way
# an outside user would: against the installed headers and pkg-config modules.
# Checks the binary needs no cvmm library beyond the components it names.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d /tmp/cvmm-prefix.XXXXXX)
trap 'rm -rf "$prefix" build-install' EXIT
meson setup build-install --prefix="$prefix" -Dtests=false >/dev/null
meson install -C build-install >/dev/null
pcdir=$(dirname "$(find "$prefix" -name cvmm-loader.pc | head -1)")
export PKG_CONFIG_PATH=$pcdir
mods="cvmm-sys cvmm-memory cvmm-kvm cvmm-loader cvmm-x86 cvmm-superio"
echo "pkg-config --cflags --libs cvmm-loader: $(pkg-config --cflags --libs cvmm-loader)"
for c in sys memory bus kvm loader x86 acpi superio virtio virtio-blk vhost virtio-net; do
	pkg-config --exists "cvmm-$c" || { echo "check-install: no pkg-config module cvmm-$c" >&2; exit 1; }
	[ -f "$(pkg-config --variable=includedir "cvmm-$c")/cvmm/$c.h" ] ||
		{ echo "check-install: cvmm/$c.h not installed" >&2; exit 1; }
done
# shellcheck disable=SC2046,SC2086 # pkg-config output is a list of flags
cc -std=gnu11 -Wall -Wextra -Werror -o "$prefix/minimal-vmm" examples/minimal-vmm.c \
	$(pkg-config --cflags --libs $mods) -Wl,-rpath,"$(pkg-config --variable=libdir cvmm-sys)"
needed=$(readelf -d "$prefix/minimal-vmm" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
echo "minimal-vmm needs: $(echo "$needed" | tr '\n' ' ')"
for lib in $needed; do
	case "$lib" in
	libcvmm-sys.so* | libcvmm-memory.so* | libcvmm-kvm.so* | libcvmm-loader.so* | \
		libcvmm-x86.so* | libcvmm-superio.so* | libc.so*) ;;
	*) echo "check-install: unexpected dependency $lib" >&2; exit 1 ;;
	esac
done
usage=$("$prefix/minimal-vmm" 2>&1 || true)
case "$usage" in
*"usage: minimal-vmm"*) ;;
*) echo "check-install: installed example does not run: $usage" >&2; exit 1 ;;
esac
echo "check-install: ok"
