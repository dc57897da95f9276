#!/usr/bin/env bash
# The guest takes eth0 down and up (the driver resets the device, which
# re-activates) and traffic resumes; then `reboot -f` (reboot=k) ends cvmm,
# and a second boot on the same TAP passes traffic again.
# NET_VHOST=on (test_net_lifecycle_vhost.sh) runs it on vhost-net.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
vhost=${NET_VHOST:-off}
[ "$vhost" = off ] || [ -c /dev/vhost-net ] || fail "no /dev/vhost-net"
net_tap cvmmt0 192.0.2.1/24
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP"'
ping -c 2 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping-before=ok"
ip link set eth0 down && ip link set eth0 up && echo "cvmm-test: down-up=done"
ping -c 2 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping-after=ok"
echo "cvmm-test: rebooting=yes"
reboot -f
sleep 1000' "$TEST_TMP/initrd"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" --net "tap=cvmmt0,vhost=$vhost" || rc=$?
expect_status 0 "$rc"
expect_output '^cvmm-test: ping-before=ok$'
expect_output '^cvmm-test: down-up=done$'
expect_output '^cvmm-test: ping-after=ok$'
expect_output '^cvmm-test: rebooting=yes$'
# Second boot, same TAP: it was released, and works again.
make_initrd_with_test "$GUEST_NET_UP"'
ping -c 2 -W 10 192.0.2.1 >/dev/null && echo "cvmm-test: ping-second-boot=ok"' "$TEST_TMP/initrd2"
rc=0
run_guest run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd2" --net "tap=cvmmt0,vhost=$vhost" || rc=$?
expect_status 0 "$rc"
expect_output '^cvmm-test: ping-second-boot=ok$'
echo "vhost=$vhost: ok"
