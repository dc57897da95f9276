#!/usr/bin/env bash
# virtio-blk benchmark: fio in the guest against a raw 256 MiB disk, for cvmm
# (engine=sync, engine=io_uring) and QEMU microvm's virtio-blk-device.
#   bench/blk/run.sh      (re-runs itself through tests/rig/rig.sh)
# fio and its shared libraries travel on a second, read-only ext4 disk (the
# busybox initramfs has no fio); the guest finds the bench disk by its size.
# Both monitors do I/O through the host page cache (cvmm does not use O_DIRECT
# on the image; QEMU gets cache=writeback): the guest side is O_DIRECT.
# Environment: CVMM (default build/vmm/cvmm), QEMU (default qemu-system-x86_64),
# BENCH_RUNTIME (seconds per fio job, default 5).
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
runtime=${BENCH_RUNTIME:-5}
[ -x "$CVMM" ] || { echo "bench: $CVMM is not built" >&2; exit 1; }
. "$repo/bench/fio-tools.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/cvmm-bench-blk.XXXXXX")
trap 'rm -rf "$work"' EXIT
bench_fio_tools "$work/tools.img"

# The bench disk, fully allocated so writes do not measure hole filling.
dd if=/dev/zero of="$work/bench.img" bs=1M count=256 status=none

# Workloads: name rw bs iodepth.
jobs="randread-4k-qd1 randread 4k 1
randread-4k-qd32 randread 4k 32
randwrite-4k-qd1 randwrite 4k 1
randwrite-4k-qd32 randwrite 4k 32
read-128k-qd1 read 128k 1
read-128k-qd32 read 128k 32"

cat >"$work/test.sh" <<EOF
mkdir -p /opt
mount -t ext4 -o ro /dev/vdb /opt 2>/dev/null || mount -t ext4 -o ro /dev/vda /opt
dev=
for b in /sys/block/vd*; do
	[ "\$(cat \$b/size)" = 524288 ] && dev=/dev/\${b##*/}
done
[ -n "\$dev" ] || { echo "cvmm-bench: no 256 MiB disk"; exit 1; }
fio="$BENCH_GUEST_FIO"
echo "$jobs" | while read -r name rw bs qd; do
	line=\$(\$fio --name=\$name --filename=\$dev --rw=\$rw --bs=\$bs --iodepth=\$qd \
		--direct=1 --ioengine=libaio --time_based --runtime=$runtime --ramp_time=1 \
		--output-format=terse --terse-version=3 2>&1 | tail -n 1)
	echo "cvmm-bench: \$line"
done
EOF
"$repo/tests/rig/mkinitrd-overlay.sh" "$work/overlay.cpio.gz" "$work/test.sh:/test.sh"
cat "$RIG_INITRD" "$work/overlay.cpio.gz" >"$work/initrd"

run_vm() { # label CMD...: guest output to $work/label.out
	local label=$1 start rc=0
	shift
	start=$SECONDS
	timeout -k 5 300 "$@" </dev/null >"$work/$label.out" 2>&1 || rc=$?
	echo "bench: $label: exit $rc after $((SECONDS - start))s" >&2
	grep '^cvmm-bench:' "$work/$label.out" | tr -d '\r' >"$work/$label.res" || true
	if [ "$(wc -l <"$work/$label.res")" != 6 ]; then
		echo "bench: $label: fio did not report every job; output:" >&2
		tail -n 30 "$work/$label.out" >&2
	fi
}

cvmm_run() { # engine
	run_vm "cvmm-$1" "$CVMM" run --kernel "$RIG_BZIMAGE" --initrd "$work/initrd" --cpus 1 --memory 512 \
		--disk "path=$work/bench.img,engine=$1" --disk "path=$work/tools.img,ro,engine=$1"
}
cvmm_run sync
cvmm_run io_uring
run_vm qemu "$QEMU" -M microvm,acpi=on -enable-kvm -cpu host,-arch-capabilities -smp 1 -m 512 \
	-nodefaults -no-user-config -display none -serial stdio \
	-kernel "$RIG_BZIMAGE" -initrd "$work/initrd" -append "console=ttyS0 reboot=k panic=1" \
	-drive "id=d0,file=$work/bench.img,format=raw,if=none,cache=writeback,aio=io_uring" \
	-device virtio-blk-device,drive=d0 \
	-drive "id=d1,file=$work/tools.img,format=raw,if=none,readonly=on" \
	-device virtio-blk-device,drive=d1

# Terse v3 fields (1-based): 7 read KiB/s, 8 read IOPS, 49 write IOPS.
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
def load(label):
    res = {}
    try:
        for line in open(f"{work}/{label}.res"):
            f = line.split(": ", 1)[1].strip().split(";")
            if len(f) < 49:
                continue
            name = f[2]
            if name.startswith("randwrite"):
                res[name] = float(f[48])
            elif name.startswith("read-"):
                res[name] = float(f[6]) * 1024 / 1e6
            else:
                res[name] = float(f[7])
    except OSError:
        pass
    return res
cols = ["cvmm-sync", "cvmm-io_uring", "qemu"]
data = {c: load(c) for c in cols}
names = ["randread-4k-qd1", "randread-4k-qd32", "randwrite-4k-qd1",
         "randwrite-4k-qd32", "read-128k-qd1", "read-128k-qd32"]
fmt = "{:<24}{:>14}{:>14}{:>14}{:>16}"
print(fmt.format("workload", *cols, "best-cvmm/qemu"))
ratios4k = []
for n in names:
    unit = "MB/s" if n.startswith("read-") else "IOPS"
    v = [data[c].get(n) for c in cols]
    cells = [("%.0f" % x) if x is not None else "-" for x in v]
    best = max([x for x in v[:2] if x is not None], default=None)
    ratio = best / v[2] if best is not None and v[2] else None
    if "4k" in n and ratio is not None:
        ratios4k.append(ratio)
    print(fmt.format(f"{n} ({unit})", *cells, ("%.2fx" % ratio) if ratio else "-"))
if ratios4k:
    worst = min(ratios4k)
    print(f"target: best cvmm >= 1.2x QEMU on 4k IOPS: worst 4k ratio {worst:.2f}x -> "
          + ("MET" if worst >= 1.2 else "NOT MET"))
PY
