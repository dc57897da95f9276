#!/usr/bin/env bash
# Two interfaces on two TAPs (two --net, two subnets): the guest sees eth0 and
# eth1 with their MACs and reaches the host through each; one on vhost-net
# when the host has it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
second=off
[ ! -c /dev/vhost-net ] || second=on
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP"'
ip link set eth1 up && ip addr add 198.51.100.2/24 dev eth1
echo "cvmm-test: macs=$(cat /sys/class/net/eth0/address),$(cat /sys/class/net/eth1/address)"
ping -c 3 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping0=ok"
ping -c 3 -W 10 198.51.100.1 >/dev/null && echo "cvmm-test: ping1=ok"
echo "cvmm-test: ready"
nc -l -p 7000 >/dev/null' "$TEST_TMP/initrd"
net_tap cvmmt0 192.0.2.1/24
net_tap cvmmt1 198.51.100.1/24
start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--net tap=cvmmt0,mac=52:54:00:00:00:01 --net "tap=cvmmt1,mac=52:54:00:00:00:02,vhost=$second"
ok=1
host_ping 192.0.2.2 || ok=0
host_ping 198.51.100.2 || ok=0
net_guest_done
rc=$NET_RC
[ "$ok" = 1 ] || { show_output; fail "the host got no reply on one of the interfaces"; }
expect_status 0 "$rc"
expect_output '^cvmm-test: macs=52:54:00:00:00:01,52:54:00:00:00:02$'
expect_output '^cvmm-test: ping0=ok$'
expect_output '^cvmm-test: ping1=ok$'
echo "eth0 userspace, eth1 vhost=$second: ok"
