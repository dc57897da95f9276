#!/usr/bin/env bash
# vsock bench: stream throughput and connect latency, host->guest and
# guest->host, for cvmm's hybrid back end (UNIX sockets), cvmm vhost=on, and
# QEMU's vhost-vsock-device (microvm), in the same rig run. Runs itself
# through tests/rig/rig.sh unless already inside.
#   bench/vsock/run.sh
# Throughput: BENCH_MIB MiB (default 32) one way, timed by the host's
# vsock-tool from connect (or accept) until the receiver closed after reading
# it all. Latency: the mean of BENCH_CONNECTS (50) connects one after
# another, each closed at once, timed by the connecting side (hybrid
# host->guest: until the "OK" line). Target: hybrid >= 0.8x cvmm vhost.
# Environment: CVMM (default build/vmm/cvmm), QEMU (qemu-system-x86_64).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ -z "${CVMM_RIG_MODE:-}" ]; then
	exec "$repo/tests/rig/rig.sh" -- "$here/run.sh" "$@"
fi
CVMM=${CVMM:-$repo/build/vmm/cvmm}
QEMU=${QEMU:-qemu-system-x86_64}
mib=${BENCH_MIB:-32}
n=${BENCH_CONNECTS:-50}
[ -x "$CVMM" ] || { echo "bench: $CVMM is not built" >&2; exit 1; }

# The test helpers give the vsock tool, the initrd builder and the L1's
# vhost_vsock module loading; their failures end the bench.
. "$repo/tests/integration/lib.sh"
. "$repo/tests/integration/vsock-lib.sh"
vsock_vhost_setup
GUEST_TIMEOUT=900
size=$((mib << 20))

# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test '/vt vsock-listen:6000 </dev/null >/dev/null
/vt -t -g '$size' vsock-connect:2:6001 >/dev/null
/vt -e -k '$n' vsock-listen:6002
/vt -l '$n' vsock-connect:2:6003
echo "cvmm-test: bench-done"' "$TEST_TMP/initrd" "$TEST_TMP/vt-guest:/vt"

# one NAME HOST_CONNECT_PREFIX HOST_LISTEN_PREFIX MONITOR...: one guest, the
# four measures; prints "NAME h2g_mibs g2h_mibs h2g_us g2h_us".
one() {
	local name=$1 hc=$2 hl=$3 h2g g2h hus gus
	shift 3
	"$VT" -t "${hl}6001" </dev/null >/dev/null 2>"$TEST_TMP/g2h" &
	local g2h_pid=$!
	"$VT" -e -k "$n" "${hl}6003" 2>/dev/null &
	local lat_pid=$!
	timeout -k 5 "$GUEST_TIMEOUT" "$@" </dev/null >"$GUEST_OUT" 2>&1 &
	GUEST_PID=$!
	wait_for '^vsock-tool: listening on vsock-listen:6000'
	"$VT" -t -g "$size" "${hc}6000" </dev/null >/dev/null 2>"$TEST_TMP/h2g" || fail "$name: host->guest failed"
	wait "$g2h_pid" || fail "$name: guest->host failed"
	wait_for '^vsock-tool: listening on vsock-listen:6002'
	hus=$("$VT" -l "$n" "${hc}6002" | sed -n 's/.*connect_us=//p')
	wait_for '^cvmm-test: bench-done'
	wait "$lat_pid" || true
	wait_guest || true
	gus=$(tr -d '\r' <"$GUEST_OUT" | sed -n 's/^vsock-tool: connect_us=//p')
	h2g=$(sed -n 's/.*secs=//p' "$TEST_TMP/h2g" | awk -v m="$mib" '{ printf "%.1f", m / $1 }')
	g2h=$(sed -n 's/.*secs=//p' "$TEST_TMP/g2h" | awk -v m="$mib" '{ printf "%.1f", m / $1 }')
	echo "$name $h2g $g2h $hus $gus"
}

boot=(--kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --memory 256)
echo "vsock bench ($CVMM_RIG_MODE): $mib MiB streams, $n connects each way" >&2
{
	one cvmm-hybrid "uds-connect:$UDS:" "uds-listen:${UDS}_" \
		"$CVMM" run "${boot[@]}" --vsock "cid=3,uds=$UDS"
	one cvmm-vhost "vsock-connect:3:" "vsock-listen:" \
		"$CVMM" run "${boot[@]}" --vsock "cid=3,vhost=on"
	one qemu-vhost "vsock-connect:3:" "vsock-listen:" \
		"$QEMU" -M microvm -enable-kvm -cpu host -m 256 -smp 1 -nodefaults \
		-no-user-config -nographic -serial stdio -no-reboot -kernel "$RIG_BZIMAGE" \
		-initrd "$TEST_TMP/initrd" -append "console=ttyS0 reboot=k panic=1" \
		-device vhost-vsock-device,guest-cid=3
} >"$TEST_TMP/results"
printf '%-12s %14s %14s %14s %14s\n' "" "h2g MiB/s" "g2h MiB/s" "h2g conn us" "g2h conn us"
while read -r name a b c d; do
	printf '%-12s %14s %14s %14s %14s\n' "$name" "$a" "$b" "$c" "$d"
done <"$TEST_TMP/results"
awk '$1 == "cvmm-hybrid" { h2g = $2; g2h = $3 } $1 == "cvmm-vhost" { v2g = $2; v2h = $3 }
	END { printf "hybrid/vhost throughput: h2g %.2f, g2h %.2f (target >= 0.8)\n", h2g / v2g, g2h / v2h }' \
	"$TEST_TMP/results"
if [ "$CVMM_RIG_MODE" != native ]; then
	echo "note: measured inside an L1 under QEMU TCG: figures are not representative of real KVM"
fi
