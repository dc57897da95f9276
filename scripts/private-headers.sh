#!/bin/sh
# Usage: private-headers.sh DIR HEADER...
# Run by meson.build when configuring: makes DIR/cvmm/ hold copies of exactly
# the given headers, the only cvmm headers a component may include. A copy
# is rewritten only when its content differs: it then gets a new mtime, so
# that what includes it recompiles even if it was built after the original
# changed, while what includes an unchanged header does not.
set -eu
dir=$1/cvmm
shift
mkdir -p "$dir"
for f in "$dir"/*.h; do
	[ -e "$f" ] || continue
	keep=
	for h; do
		[ "${h##*/}" = "${f##*/}" ] && keep=1
	done
	[ -n "$keep" ] || rm -f "$f"
done
for h; do
	cmp -s "$h" "$dir/${h##*/}" || cp "$h" "$dir/"
done
