#!/usr/bin/env bash
# Bad arguments: exit status 2 and exactly one stderr line starting "cvmm: ".
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
head -c 65536 /dev/urandom >"$TEST_TMP/garbage"
long=$(head -c 10240 /dev/zero | tr '\0' x)
failures=0

check() { # NAME MUST_MATCH(ERE, may be empty) ARGS...
	local name=$1 want=$2 rc=0 lines
	shift 2
	run_guest "$@" || rc=$?
	lines=$(wc -l <"$GUEST_ERR")
	if [ "$rc" != 2 ] || [ "$lines" != 1 ] || ! head -n1 "$GUEST_ERR" | grep -q '^cvmm: ' ||
		{ [ -n "$want" ] && ! grep -Eqi -- "$want" "$GUEST_ERR"; }; then
		echo "$name: want status 2 and one 'cvmm: ' stderr line${want:+ matching /$want/}; got status $rc, $lines stderr line(s):" >&2
		sed 's/^/    /' "$GUEST_ERR" | head -n 10 >&2
		failures=$((failures + 1))
	fi
}

check "garbage kernel" kernel run --kernel "$TEST_TMP/garbage" --initrd "$RIG_INITRD"
check "no --kernel" "" run --initrd "$RIG_INITRD"
check "nonexistent kernel" kernel run --kernel "$TEST_TMP/does-not-exist"
check "--cpus 0" "" run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD" --cpus 0
check "--memory 0" "" run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD" --memory 0
check "10 KiB cmdline" "" run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD" --cmdline "console=ttyS0 $long"
check "unknown option" "" run --kernel "$RIG_BZIMAGE" --no-such-option
[ "$failures" = 0 ]
