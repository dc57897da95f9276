#!/usr/bin/env bash
# Bad --disk arguments: exit 2 and exactly one `cvmm: --disk` line on stderr.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
truncate -s 16M "$TEST_TMP/disk.img"
boot=(run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD")

try() { # WHAT DISK_SPEC
	local rc=0
	run_guest "${boot[@]}" --disk "$2" || rc=$?
	expect_disk_error "$rc"
	echo "$1: $(cat "$GUEST_ERR")"
}
try "missing file" "path=$TEST_TMP/nope.img"
try "unknown key" "path=$TEST_TMP/disk.img,colour=blue"
try "bad engine" "path=$TEST_TMP/disk.img,engine=bogus"
try "no path" "ro"

# Another user holding an OFD write lock on the whole image (what a second
# cvmm holds on a read-write disk, see lib/virtio-blk/blk.c) makes it busy.
fifo=$TEST_TMP/locked
mkfifo "$fifo"
/usr/bin/python3 - "$TEST_TMP/disk.img" >"$fifo" <<'PY' &
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
# struct flock: l_type, l_whence, l_start, l_len, l_pid (must be 0 for OFD locks)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK, struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0))
print("locked", flush=True)
time.sleep(120)
PY
holder=$!
trap 'kill "$holder" 2>/dev/null; rm -rf "$TEST_TMP"' EXIT
read -r state <"$fifo"
[ "$state" = locked ] || fail "could not take the test lock"
try "locked image" "path=$TEST_TMP/disk.img"
grep -q 'locked' "$GUEST_ERR" || fail "lock error does not say the image is locked"
try "locked image, ro" "path=$TEST_TMP/disk.img,ro"
