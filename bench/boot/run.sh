#!/usr/bin/env bash
# Boot bench: cvmm vs QEMU microvm, same kernel (bzImage), initramfs, cmdline,
# 1 vCPU and 128 MiB. Runs itself through tests/rig/rig.sh unless already inside.
#   bench/boot/run.sh            (or: tests/rig/rig.sh -- bench/boot/run.sh)
# Boot-to-init: wall time from spawning the monitor to "cvmm-guest: init
# reached" on its serial output, measured the same way for both. Non-guest
# RSS: Rss summed over /proc/PID/smaps minus the 128 MiB guest RAM mapping,
# read while the guest sleeps 2 s after init. Medians of BENCH_RUNS (5) runs.
# Environment: CVMM (default build/vmm/cvmm), QEMU (qemu-system-x86_64), BENCH_RUNS.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ -z "${CVMM_RIG_MODE:-}" ]; then
	exec "$repo/tests/rig/rig.sh" -- "$here/run.sh" "$@"
fi

CVMM=${CVMM:-$repo/build/vmm/cvmm}
QEMU=${QEMU:-qemu-system-x86_64}
runs=${BENCH_RUNS:-5}
mib=128
cmdline="console=ttyS0 reboot=k panic=1"
marker="cvmm-guest: init reached"
timeout_s=60
[ "$CVMM_RIG_MODE" = native ] || timeout_s=300

[ -x "$CVMM" ] || { echo "bench: $CVMM is not built" >&2; exit 1; }
eval "$("$repo/tests/rig/assets.sh")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cvmm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'sleep 2\n' >"$tmp/test.sh"
"$repo/tests/rig/mkinitrd-overlay.sh" "$tmp/overlay.cpio.gz" "$tmp/test.sh:/test.sh"
cat "$RIG_INITRD" "$tmp/overlay.cpio.gz" >"$tmp/initrd"

measure() { # NAME CMD...
	local name=$1 line
	shift
	line=$(python3 "$here/measure.py" --marker "$marker" --guest-mib "$mib" \
		--timeout "$timeout_s" -- "$@") || {
		echo "bench: $name run failed: $line" >&2
		exit 1
	}
	echo "  $name: $line" >&2
	echo "$line" >>"$tmp/$name.runs"
}

echo "boot bench ($CVMM_RIG_MODE): $(basename "$RIG_BZIMAGE") $RIG_KVER, 1 vCPU, $mib MiB, $runs runs each" >&2
for _ in $(seq "$runs"); do
	measure cvmm "$CVMM" run --kernel "$RIG_BZIMAGE" --initrd "$tmp/initrd" \
		--cpus 1 --memory "$mib" --boot-timer
	measure qemu "$QEMU" -M microvm -enable-kvm -cpu host -m "$mib" -smp 1 \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$RIG_BZIMAGE" -initrd "$tmp/initrd" -append "$cmdline"
done

median() { # NAME FIELD
	sed -n "s/.*\\b$2=\\([0-9.]*\\).*/\\1/p" "$tmp/$1.runs" | sort -g |
		awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
		       else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "-") printf "%.2f", a / b; else print "-" }'; }

cb=$(median cvmm boot_ms)
qb=$(median qemu boot_ms)
cr=$(median cvmm rss_kib)
qr=$(median qemu rss_kib)
ct=$(median cvmm boot_timer_ms)
br=$(ratio "$cb" "$qb")
rr=$(ratio "$cr" "$qr")
boot_ok=$(awk -v r="$br" 'BEGIN { print (r != "-" && r <= 0.6) ? "ok" : "MISSED" }')
rss_ok=$(awk -v c="$cr" 'BEGIN { print (c != "-" && c <= 1536) ? "ok" : "MISSED" }')

printf '%-26s %10s %10s %8s   %s\n' "median of $runs" cvmm qemu ratio target
printf '%-26s %10s %10s %8s   %s\n' "boot-to-init (ms)" "$cb" "$qb" "$br" "ratio <= 0.6: $boot_ok"
printf '%-26s %10s %10s %8s   %s\n' "non-guest RSS (KiB)" "$cr" "$qr" "$rr" "cvmm <= 1536 KiB: $rss_ok"
printf '%-26s %10s %10s %8s\n' "cvmm --boot-timer (ms)" "$ct" "-" "-"
if [ "$CVMM_RIG_MODE" != native ]; then
	echo "note: measured inside an L1 under QEMU TCG: times are not representative of real KVM"
fi
