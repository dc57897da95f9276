#!/usr/bin/env bash
# virtio-net benchmark, cvmm beside QEMU in the same run (one vCPU each):
# cvmm's userspace device, cvmm vhost=on, QEMU microvm's virtio-net-device on
# the same TAP without and with vhost=on. From the host (the L1 in the rig)
# to a guest iperf3 server: TCP host->guest and guest->host (-R), UDP
# 64-byte datagrams guest->host (packets per second received), ping RTT;
# the TCP senders' retransmits beside (drops show there).
#   bench/net/run.sh      (re-runs itself through tests/rig/rig.sh)
# iperf3 and its libraries travel in the guest's initramfs (copied with ldd).
# Environment: CVMM (default build/vmm/cvmm), QEMU (default
# qemu-system-x86_64), BENCH_SECONDS (per iperf3 run, default 10),
# BENCH_ONLY (space-separated subset of the labels below), BENCH_PERF=1
# (profile each monitor with perf during its TCP runs; the top of each
# profile is printed at the end).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ -z "${CVMM_RIG_MODE:-}" ]; then
	exec "$repo/tests/rig/rig.sh" -- "$here/run.sh" "$@"
fi
PATH=$PATH:/usr/sbin:/sbin
eval "$("$repo/tests/rig/assets.sh")"
CVMM=${CVMM:-$repo/build/vmm/cvmm}
QEMU=${QEMU:-qemu-system-x86_64}
secs=${BENCH_SECONDS:-10}
BB=$RIG_BUSYBOX
[ -x "$CVMM" ] || { echo "bench: $CVMM is not built" >&2; exit 1; }
IPERF=$(command -v iperf3) || { echo "bench: iperf3 is not installed (apt-get install iperf3)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cvmm-bench-net.XXXXXX")
tap=cvmmb0
cleanup() {
	ip link del "$tap" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
for ko in $RIG_L1_NET_MODULES; do
	"$BB" insmod "$ko" 2>/dev/null || true
done
ip link del "$tap" 2>/dev/null || true
ip tuntap add "$tap" mode tap
ip addr add 192.0.2.1/24 dev "$tap"
ip link set "$tap" up

# iperf3, its libraries and the dynamic loader, for the guest.
specs=("$IPERF:/opt/iperf3")
while read -r lib; do
	specs+=("$(readlink -f "$lib"):/opt/lib/$(basename "$lib")")
done <<<"$(ldd "$IPERF" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}')"
cat >"$work/test.sh" <<'EOS'
ip link set eth0 up && ip addr add 192.0.2.2/24 dev eth0
/opt/lib/ld-linux-x86-64.so.2 --library-path /opt/lib /opt/iperf3 -s -D >/dev/null 2>&1
echo "cvmm-bench: ready"
nc -l -p 7000 >/dev/null
EOS
"$repo/tests/rig/mkinitrd-overlay.sh" "$work/overlay.cpio.gz" "$work/test.sh:/test.sh" "${specs[@]}"
cat "$RIG_INITRD" "$work/overlay.cpio.gz" >"$work/initrd"

# tcp LABEL PID KIND [ARGS...]: one iperf3 TCP run, the monitor profiled
# alongside with BENCH_PERF=1 (self time by thread and dso, then by symbol).
tcp() {
	local label=$1 pid=$2 kind=$3
	shift 3
	if [ "${BENCH_PERF:-0}" = 1 ]; then
		perf record -q -F 499 -g -p "$pid" -o "$work/$label.$kind.perf.data" -- sleep "$secs" \
			>/dev/null 2>&1 &
	fi
	"$IPERF" -c 192.0.2.2 -t "$secs" "$@" -J >"$work/$label.$kind.json" 2>&1 || true
	if [ "${BENCH_PERF:-0}" = 1 ]; then
		wait $! || true
		for sort in comm,dso comm,dso,sym; do
			perf report -i "$work/$label.$kind.perf.data" --stdio --no-children \
				--sort "$sort" --percent-limit 1.5 -g none 2>/dev/null | grep -v '^#' |
				grep -v '^$' | head -n 15 || true
		done >"$work/$label.$kind.perf.txt"
	fi
}

# measure LABEL CMD...: boot, wait for the guest's server, run the clients.
measure() {
	local label=$1 pid deadline
	shift
	echo "bench: $label" >&2
	"$@" </dev/null >"$work/$label.console" 2>&1 &
	pid=$!
	deadline=$((SECONDS + 300))
	until grep -q '^cvmm-bench: ready' "$work/$label.console" 2>/dev/null; do
		if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
			echo "bench: $label did not come up" >&2
			tail -n 20 "$work/$label.console" >&2
			kill -9 "$pid" 2>/dev/null || true
			return 0
		fi
		sleep 1
	done
	sleep 2
	tcp "$label" "$pid" tcp-in
	tcp "$label" "$pid" tcp-out -R
	"$IPERF" -c 192.0.2.2 -t "$secs" -R -u -l 64 -b 0 -J >"$work/$label.udp.json" 2>&1 || true
	"$BB" ping -c 20 -i 0.2 192.0.2.2 >"$work/$label.ping" 2>&1 || true
	echo finished | timeout 30 "$BB" nc 192.0.2.2 7000 || true
	timeout 60 tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

boot=(--kernel "$RIG_BZIMAGE" --initrd "$work/initrd" --cpus 1 --memory 512)
# shellcheck disable=SC2054 # commas are QEMU option syntax
qemu=("$QEMU" -M microvm,acpi=on -enable-kvm -cpu host,-arch-capabilities -smp 1 -m 512
	-nodefaults -no-user-config -display none -serial stdio
	-kernel "$RIG_BZIMAGE" -initrd "$work/initrd" -append "console=ttyS0 reboot=k panic=1")
want() { [ -z "${BENCH_ONLY:-}" ] || [[ " $BENCH_ONLY " == *" $1 "* ]]; }
! want cvmm || measure cvmm "$CVMM" run "${boot[@]}" --net "tap=$tap,mac=52:54:00:12:34:56"
! want cvmm-vhost || measure cvmm-vhost "$CVMM" run "${boot[@]}" --net "tap=$tap,mac=52:54:00:12:34:56,vhost=on"
! want qemu || measure qemu "${qemu[@]}" \
	-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
	-device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56
! want qemu-vhost || measure qemu-vhost "${qemu[@]}" \
	-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vhost=on" \
	-device virtio-net-device,netdev=n0,mac=52:54:00:12:34:56

for f in "$work"/*.perf.txt; do
	[ -f "$f" ] || continue
	echo "--- perf, $(basename "$f" .perf.txt) (tcp-in: host->guest, tcp-out: guest->host) ---"
	cat "$f"
done
python3 - "$work" <<'PY'
import json, re, sys
work = sys.argv[1]
cols = ["cvmm", "qemu", "cvmm-vhost", "qemu-vhost"]
def tcp(label, kind):
    try:
        j = json.load(open(f"{work}/{label}.{kind}.json"))
        return j["end"]["sum_received"]["bits_per_second"] / 1e6
    except (OSError, ValueError, KeyError):
        return None
def retrans(label, kind):
    try:
        j = json.load(open(f"{work}/{label}.{kind}.json"))
        return float(j["end"]["sum_sent"]["retransmits"])
    except (OSError, ValueError, KeyError):
        return None
def udp(label):
    try:
        j = json.load(open(f"{work}/{label}.udp.json"))
        s = j["end"]["sum"]
        return (s["packets"] - s["lost_packets"]) / s["seconds"] / 1e3
    except (OSError, ValueError, KeyError, ZeroDivisionError):
        return None
def rtt(label):
    try:
        m = re.search(r"min/avg/max = [\d.]+/([\d.]+)/", open(f"{work}/{label}.ping").read())
        return float(m.group(1)) if m else None
    except OSError:
        return None
rows = [("TCP host->guest (Mbit/s)", lambda c: tcp(c, "tcp-in")),
        ("TCP guest->host (Mbit/s)", lambda c: tcp(c, "tcp-out")),
        ("TCP host->guest retransmits", lambda c: retrans(c, "tcp-in")),
        ("TCP guest->host retransmits", lambda c: retrans(c, "tcp-out")),
        ("UDP 64 B guest->host (kpps)", udp),
        ("ping RTT avg (ms)", rtt)]
data = {name: {c: f(c) for c in cols} for name, f in rows}
fmt = "{:<30}" + "{:>12}" * len(cols)
print(fmt.format("", *cols))
for name, _ in rows:
    print(fmt.format(name, *[("%.2f" % v) if v is not None else "-" for v in data[name].values()]))
def ratio(name, a, b):
    x, y = data[name][a], data[name][b]
    return x / y if x is not None and y else None
for name in ("TCP host->guest (Mbit/s)", "TCP guest->host (Mbit/s)"):
    r = ratio(name, "cvmm", "qemu")
    v = ratio(name, "cvmm-vhost", "qemu-vhost")
    print(f"{name}: cvmm/qemu {r:.2f}x (target >= 1.2x: {'MET' if r >= 1.2 else 'NOT MET'})" if r else f"{name}: cvmm/qemu -")
    print(f"{name}: cvmm-vhost/qemu-vhost {v:.2f}x (target 0.9..1.1: {'MET' if 0.9 <= v <= 1.1 else 'NOT MET'})" if v else f"{name}: vhost ratio -")
PY
