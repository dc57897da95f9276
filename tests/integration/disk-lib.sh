#!/usr/bin/env bash
# Helpers for tests/integration/test_disk_*.sh, sourced after lib.sh.
PATH=$PATH:/usr/sbin:/sbin

# mkfs_ext4_dir IMG MIB DIR: a fresh ext4 image of MIB MiB holding DIR's tree.
mkfs_ext4_dir() {
	rm -f "$1"
	truncate -s "${2}M" "$1"
	mkfs.ext4 -q -F -E root_owner=0:0 -d "$3" "$1" >/dev/null
}

# region_sha256 FILE MIB: sha256 of FILE's first MIB MiB.
region_sha256() {
	head -c "$(($2 * 1048576))" "$1" | sha256sum | cut -d' ' -f1
}

# expect_disk_error STATUS: cvmm exited 2 with exactly one stderr line, `cvmm: --disk...`.
expect_disk_error() {
	expect_status 2 "$1"
	if [ "$(wc -l <"$GUEST_ERR")" != 1 ] || ! grep -q '^cvmm: --disk' "$GUEST_ERR"; then
		echo "expected one 'cvmm: --disk' line on stderr, got:" >&2
		cat "$GUEST_ERR" >&2
		exit 1
	fi
}

# start_guest_until ERE ARGS...: start "$CVMM" ARGS in the background (stdin
# from $GUEST_STDIN, default /dev/null) and wait until its stdout has a line
# matching ERE; sets GUEST_PID. Fails (killing it) if cvmm exits first or
# GUEST_TIMEOUT passes.
start_guest_until() {
	local marker=$1 deadline=$((SECONDS + GUEST_TIMEOUT))
	shift
	"$CVMM" "$@" <"${GUEST_STDIN:-/dev/null}" >"$GUEST_STDOUT" 2>"$GUEST_ERR" &
	GUEST_PID=$!
	while ! grep -Eq -- "$marker" "$GUEST_STDOUT"; do
		if ! kill -0 "$GUEST_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			kill -9 "$GUEST_PID" 2>/dev/null || true
			wait_guest || true
			show_output
			fail "no output matching '$marker' (cvmm gone or ${GUEST_TIMEOUT}s passed)"
		fi
		sleep 0.1
	done
}

# wait_guest: wait for GUEST_PID and collect its output into GUEST_OUT;
# returns its exit status.
wait_guest() {
	local rc=0
	wait "$GUEST_PID" || rc=$?
	cat "$GUEST_STDOUT" "$GUEST_ERR" | tr -d '\r' >"$GUEST_OUT"
	return "$rc"
}
