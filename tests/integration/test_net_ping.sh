#!/usr/bin/env bash
# --net on a TAP, with the userspace device and with vhost=on: the guest sees
# eth0 with the given MAC and pings the host, the host pings the guest, and a
# message crosses a TCP connection from the host to the guest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP"'
echo "cvmm-test: mac=$(cat /sys/class/net/eth0/address)"
ping -c 3 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping-host=ok"
echo "cvmm-test: ready"
nc -l -p 7000 >/tmp/msg
echo "cvmm-test: msg=$(cat /tmp/msg)"' "$TEST_TMP/initrd"
for vhost in $(vhost_modes); do
	net_tap cvmmt0 192.0.2.1/24
	start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
		--net "tap=cvmmt0,mac=52:54:00:12:34:56,vhost=$vhost"
	ok=1
	host_ping 192.0.2.2 || ok=0
	net_guest_done
	[ "$ok" = 1 ] || { show_output; fail "vhost=$vhost: no reply from the guest"; }
	rc=$NET_RC
	expect_status 0 "$rc"
	expect_output '^cvmm-test: mac=52:54:00:12:34:56$'
	expect_output '^cvmm-test: ping-host=ok$'
	expect_output '^cvmm-test: msg=finished$'
	echo "vhost=$vhost: ok"
done
