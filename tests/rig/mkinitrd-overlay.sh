#!/usr/bin/env bash
# Make a small gzip'd newc cpio holding the given files, to be concatenated
# after the base initramfs (the kernel unpacks all archives; later files win):
#   tests/rig/mkinitrd-overlay.sh OUT SRC:DEST [SRC:DEST...]
#   cat "$RIG_INITRD" overlay.cpio.gz >initrd.img
# DEST is an absolute path in the guest, e.g. ./test.sh:/test.sh. Modes are kept.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 OUT SRC:DEST [SRC:DEST...]" >&2
	exit 2
fi
out=$1
shift
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
for spec in "$@"; do
	src=${spec%%:*}
	dest=${spec#*:}
	case "$spec:$dest" in
	*:*:/*) ;;
	*)
		echo "$0: bad spec '$spec' (want SRC:/ABS/DEST)" >&2
		exit 2
		;;
	esac
	mkdir -p "$stage$(dirname "$dest")"
	cp -p "$src" "$stage$dest"
done
(cd "$stage" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet) | gzip -9n >"$out"
