#!/usr/bin/env bash
# Build cvmm and boot the demo microVM: the stock Debian kernel with an ext4
# root disk on virtio-blk, to an interactive busybox shell.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
eval "$(tests/rig/assets.sh)"
cache=${CVMM_RIG_CACHE:-$HOME/.cache/cvmm-rig}
mkdir -p "$cache/demo"
[ -f "$cache/demo/rootfs.img" ] || tests/rig/mkrootfs.sh "$cache/demo/rootfs.img" 64
echo "demo: booting $RIG_BZIMAGE with an ext4 root disk ($cache/demo/rootfs.img)"
exec tests/rig/rig.sh --interactive -- build/vmm/cvmm run --kernel "$RIG_BZIMAGE" \
	--initrd "$RIG_INITRD" --cpus 2 --memory 256 \
	--disk "path=$cache/demo/rootfs.img,root"
