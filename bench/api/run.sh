#!/usr/bin/env bash
# API bench: InstanceStart-to-init over the API socket beside `cvmm run` and
# QEMU microvm boot-to-init (bench/boot), non-guest RSS with the API up, and
# the latency of GET / on a running VM (median and p99 of 1000). Medians of
# BENCH_RUNS (3) runs. Runs itself through the rig unless already inside.
#   bench/api/run.sh
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
if [ -z "${CVMM_RIG_MODE:-}" ]; then
	exec "$repo/tests/rig/rig.sh" -- "$here/run.sh" "$@"
fi
CVMM=${CVMM:-$repo/build/vmm/cvmm}
runs=${BENCH_RUNS:-3}
eval "$("$repo/tests/rig/assets.sh")"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cvmm-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
printf 'sleep 600\n' >"$tmp/test.sh"
"$repo/tests/rig/mkinitrd-overlay.sh" "$tmp/overlay.cpio.gz" "$tmp/test.sh:/test.sh"
cat "$RIG_INITRD" "$tmp/overlay.cpio.gz" >"$tmp/initrd"
marker="cvmm-guest: init reached"
boot() { # NAME CMD...: boot-to-init and RSS as bench/boot measures them
	local name=$1 line
	shift
	line=$(python3 "$repo/bench/boot/measure.py" --marker "$marker" --guest-mib 128 \
		--timeout 300 -- "$@")
	echo "  $name: $line" >&2
	echo "$line" >>"$tmp/$name.runs"
}
for _ in $(seq "$runs"); do
	line=$(python3 "$here/measure_api.py" --cvmm "$CVMM" --kernel "$RIG_BZIMAGE" \
		--initrd "$tmp/initrd" --sock "$tmp/api.sock" --marker "$marker")
	echo "  api: $line" >&2
	echo "$line" >>"$tmp/runs"
	boot run "$CVMM" run --kernel "$RIG_BZIMAGE" --initrd "$tmp/initrd"
	boot qemu "${QEMU:-qemu-system-x86_64}" -M microvm -enable-kvm -cpu host -m 128 -smp 1 \
		-nodefaults -no-user-config -nographic -serial stdio -no-reboot \
		-kernel "$RIG_BZIMAGE" -initrd "$tmp/initrd" -append "console=ttyS0 reboot=k panic=1"
done
median() { # FIELD [NAME]
	sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" "$tmp/${2:+$2.}runs" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '%-34s %s\n' "median of $runs ($CVMM_RIG_MODE)" cvmm-api
printf '%-34s %s\n' "InstanceStart-to-init (ms)" "$(median start_to_init_ms)"
printf '%-34s %s\n' "cvmm run boot-to-init (ms)" "$(median boot_ms run)"
printf '%-34s %s\n' "QEMU microvm boot-to-init (ms)" "$(median boot_ms qemu)"
printf '%-34s %s\n' "non-guest RSS, API up (KiB)" "$(median rss_kib)"
printf '%-34s %s\n' "non-guest RSS, cvmm run (KiB)" "$(median rss_kib run)"
printf '%-34s %s\n' "GET / latency median (us)" "$(median api_median_us)"
printf '%-34s %s\n' "GET / latency p99 (us)" "$(median api_p99_us)"
[ "$CVMM_RIG_MODE" = native ] || echo "note: inside an L1 under QEMU TCG: times are not representative of real KVM"
