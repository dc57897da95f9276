#!/usr/bin/env bash
# Durability across a power cut: what the guest wrote with O_DIRECT and then
# flushed (fsync) is on the disk even when the machine under cvmm dies at once.
#   tests/durability/run.sh
# Always in an L1 (tests/rig/rig.sh --l1-disk): for each engine (sync,
# io_uring) a host file is an L1 virtio-blk disk and cvmm in L1 uses that
# block device as its guest's disk, so cvmm's writes sit in L1's page cache
# until cvmm fdatasyncs (L1's periodic writeback is off). The guest writes
# 16 MiB of random data (oflag=direct conv=fsync), prints its sha256, writes
# more without syncing and sleeps; once every guest has reported, the test
# kills the L1's QEMU with SIGKILL and checks the host files: each engine
# passes if the flushed 16 MiB are there. (Killing cvmm alone would prove
# nothing: the host page cache outlives it, flushed or not.)
# An L1 crash before the guests report is retried once.
#
# Prints PASS/FAIL per engine and a closing "N passed, N failed"; exit 0 when
# all passed.
# Environment: CVMM (monitor under test, default build/vmm/cvmm),
# CVMM_TEST_GUEST_TIMEOUT (seconds per guest in L1, default 240),
# CVMM_DURABILITY_DISK_OPTS (appended to each --disk, e.g. ",cache=unsafe" to
# see the test fail), CVMM_DURABILITY_TIMEOUT (seconds to wait for the guests'
# reports, default 1200), plus those of tests/rig/rig.sh.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CVMM=${CVMM:-$repo/build/vmm/cvmm}
engines=(sync io_uring)
mib=16
wait_s=${CVMM_DURABILITY_TIMEOUT:-1200}

summary() { # passed failed
	echo "$1 passed, $2 failed"
	if [ "$2" = 0 ]; then exit 0; fi
	exit 1
}
fail_all() { # reason
	local e
	for e in "${engines[@]}"; do echo "FAIL durability engine=$e ($1)"; done
	summary 0 "${#engines[@]}"
}

[ -x "$CVMM" ] || fail_all "$CVMM is not built"
eval "$("$repo/tests/rig/assets.sh")"
# The work dir must be visible in L1 (the rig shares its cache) for the initrd.
mkdir -p "$RIG_CACHE/tmp"
work=$(mktemp -d "$RIG_CACHE/tmp/durability.XXXXXX")
rig_pid=""
kill_qemu() { # the rig's QEMU, from its pidfile; 1 if there is none
	local pid
	pid=$(cat "$work/qemu.pid" 2>/dev/null || true)
	case "$(cat "/proc/${pid:-0}/comm" 2>/dev/null)" in
	qemu-system-*) kill -KILL "$pid" ;;
	*) return 1 ;;
	esac
}
# shellcheck disable=SC2317 # reached through the EXIT trap
cleanup() {
	if [ -n "$rig_pid" ]; then
		kill_qemu || true
		wait "$rig_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# shellcheck disable=SC2016 # the single-quoted text is the guest script
printf '%s\n' 'dd if=/dev/urandom of=/tmp/p bs=1M count='"$mib"' 2>/dev/null
if dd if=/tmp/p of=/dev/vda bs=1M oflag=direct conv=fsync 2>/dev/null; then
	echo "cvmm-test: synced=$(sha256sum /tmp/p | cut -d" " -f1)"
else
	echo "cvmm-test: dd failed"
fi
dd if=/dev/urandom of=/dev/vda bs=1M seek=32 count=16 2>/dev/null
sleep 100000' >"$work/test.sh"
"$repo/tests/rig/mkinitrd-overlay.sh" "$work/overlay.cpio.gz" "$work/test.sh:/test.sh"
cat "$RIG_INITRD" "$work/overlay.cpio.gz" >"$work/initrd"

# One L1 run: 0 when every guest reported and QEMU was killed, 125 when the L1
# crashed first, 1 when a guest failed (its output is in $work/rig.out).
attempt() {
	local disks=() e deadline st=0
	for e in "${engines[@]}"; do
		rm -f "$work/disk-$e.img"
		truncate -s 64M "$work/disk-$e.img"
		disks+=(--l1-disk "$work/disk-$e.img")
	done
	rm -f "$work/qemu.pid"
	"$repo/tests/rig/rig.sh" "${disks[@]}" --pidfile "$work/qemu.pid" -- \
		"$repo/tests/durability/l1.sh" "$CVMM" "$RIG_BZIMAGE" "$work/initrd" "${engines[@]}" \
		>"$work/rig.out" 2>&1 &
	rig_pid=$!
	deadline=$((SECONDS + wait_s))
	while ! grep -q '^cvmm-durability: ready' "$work/rig.out"; do
		if ! kill -0 "$rig_pid" 2>/dev/null; then
			wait "$rig_pid" || st=$?
			rig_pid=""
			[ "$st" = 125 ] && return 125
			return 1
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "durability: no report from the guests within ${wait_s}s" >>"$work/rig.out"
			break
		fi
		sleep 1
	done
	# The power cut: QEMU dies, and L1's page cache with it.
	kill_qemu || echo "durability: no QEMU pid in $work/qemu.pid" >>"$work/rig.out"
	wait "$rig_pid" || true
	rig_pid=""
	grep -q '^cvmm-durability: ready' "$work/rig.out" || return 1
	return 0
}

st=0
attempt || st=$?
if [ "$st" = 125 ]; then
	echo "durability: the L1 crashed before the guests reported; retrying once"
	sed 's/^/    /' "$work/rig.out"
	st=0
	attempt || st=$?
fi
if [ "$st" != 0 ]; then
	sed 's/^/    /' "$work/rig.out"
	[ "$st" = 125 ] && fail_all "the L1 crashed twice"
	fail_all "the guests did not report their synced data"
fi

passed=0
failed=0
for e in "${engines[@]}"; do
	want=$(tr -d '\r' <"$work/rig.out" | sed -n "s/^cvmm-durability: engine=$e .*synced=//p" | tail -n 1)
	got=$(head -c "$((mib * 1048576))" "$work/disk-$e.img" | sha256sum | cut -d' ' -f1)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		echo "PASS durability engine=$e"
		passed=$((passed + 1))
	else
		echo "FAIL durability engine=$e (the image's first $mib MiB hash to $got, the guest flushed '$want')"
		failed=$((failed + 1))
	fi
done
[ "$failed" = 0 ] || sed 's/^/    /' "$work/rig.out"
summary "$passed" "$failed"
