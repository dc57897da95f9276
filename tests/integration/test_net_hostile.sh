#!/usr/bin/env bash
# A hostile guest cannot break the monitor or its other interfaces: a guest
# program drives the second interface's virtio-mmio window itself
# (guest/virtio-net-hostile.c: bogus TX lengths, undersized RX buffers, a
# reset while the device holds buffers) while the host keeps its TAP busy;
# every reset returns, the device keeps working (with the userspace device,
# each case gets the answer the header documents), and the first interface
# (driven by the guest kernel) still passes traffic both ways.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
GUEST_TIMEOUT=$((GUEST_TIMEOUT * 2)) # the guest program waits for frames too
cc -static -O2 -Wall -o "$TEST_TMP/hostile" "$REPO/tests/integration/guest/virtio-net-hostile.c" ||
	fail "cannot build guest/virtio-net-hostile.c (static libc needed: libc6-dev)"
# Interface 0 (0xd0000000) is the guest kernel's eth0; interface 1 (0xd0001000) the target.
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP"'
/hostile 0xd0001000 && echo "cvmm-test: hostile=ok"
ping -c 3 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping-after=ok"
echo "cvmm-test: ready"
nc -l -p 7000 >/dev/null' "$TEST_TMP/initrd" "$TEST_TMP/hostile:/hostile"
for vhost in $(vhost_modes); do
	net_tap cvmmt0 192.0.2.1/24
	net_tap cvmmt1 198.51.100.1/24
	# ARP requests on the target's TAP all along (nobody answers them).
	( for _ in $(seq 600); do "$BB" ping -c 1 -W 1 198.51.100.2 >/dev/null 2>&1 || true; done ) &
	pinger=$!
	start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
		--net tap=cvmmt0 --net "tap=cvmmt1,vhost=$vhost"
	ok=1
	host_ping 192.0.2.2 || ok=0
	net_guest_done
	rc=$NET_RC
	kill "$pinger" 2>/dev/null || true
	wait "$pinger" 2>/dev/null || true
	[ "$ok" = 1 ] || { show_output; fail "vhost=$vhost: eth0 stopped answering the host"; }
	expect_status 0 "$rc"
	# Our device's answers; vhost-net's kernel worker has answers of its own
	# (it logs and skips what it cannot use), only the outcome below counts.
	if [ "$vhost" = off ]; then
		expect_output '^cvmm-test: hostile-tx-bogus needs_reset=1$'
		expect_output '^cvmm-test: hostile-tx-drops used=4 needs_reset=0$'
		expect_output '^cvmm-test: hostile-rx-small used=2 lens=0,0 needs_reset=0$'
		expect_output '^cvmm-test: hostile-rx-held used=0$'
	fi
	expect_output '^cvmm-test: hostile-tx-bogus-reset=done$'
	expect_output '^cvmm-test: hostile-tx-drops-reset=done$'
	expect_output '^cvmm-test: hostile-rx-small-reset=done$'
	expect_output '^cvmm-test: hostile-rx-reset-reset=done$'
	expect_output '^cvmm-test: hostile-rx-old-buffers touched=0$'
	expect_output '^cvmm-test: hostile-rx-after-reset used=1 len_ok=1$'
	expect_output '^cvmm-test: hostile=ok$'
	expect_output '^cvmm-test: ping-after=ok$'
	echo "vhost=$vhost: ok"
	grep '^cvmm-test: hostile-[a-z-]* [a-z_]*=' "$GUEST_OUT" | sed 's/^/    /'
done
