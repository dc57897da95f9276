#!/usr/bin/env bash
# mtu=9000 end to end, with the userspace device and with vhost=on: the guest's
# eth0 gets MTU 9000 from the device, and 9000-byte IP packets cross both
# ways whole (jumbo pings; no fragment made or reassembled on either side).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP
$SNMP_IP"'
echo "cvmm-test: mtu=$(cat /sys/class/net/eth0/mtu)"
echo "cvmm-test: ready"
nc -l -p 7000 >/dev/null
ping -c 3 -W 10 -s 8972 192.0.2.1 >/dev/null && echo "cvmm-test: jumbo-ping-host=ok"
echo "cvmm-test: frag=$(snmp_ip FragCreates) reasm=$(snmp_ip ReasmReqds)"' "$TEST_TMP/initrd"
for vhost in $(vhost_modes); do
	net_tap cvmmt0 192.0.2.1/24 9000
	frag0=$(snmp_ip FragCreates)
	start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
		--net "tap=cvmmt0,mtu=9000,vhost=$vhost"
	ok=1
	host_ping 192.0.2.2 -s 8972 || ok=0
	net_guest_done
	[ "$ok" = 1 ] || { show_output; fail "vhost=$vhost: no jumbo reply"; }
	rc=$NET_RC
	expect_status 0 "$rc"
	expect_output '^cvmm-test: mtu=9000$'
	expect_output '^cvmm-test: jumbo-ping-host=ok$'
	expect_output '^cvmm-test: frag=0 reasm=0$'
	[ "$(snmp_ip FragCreates)" = "$frag0" ] || fail "vhost=$vhost: the host fragmented its jumbo pings"
	echo "vhost=$vhost: ok"
done
