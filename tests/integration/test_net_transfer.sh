#!/usr/bin/env bash
# 64 MiB over TCP each way, checked with sha256 on the other side: the host
# sends a random file to the guest, which prints its sha256 and sends it back.
# NET_VHOST=on (test_net_transfer_vhost.sh) runs it on vhost-net.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
require_exe "$CVMM"
net_setup
vhost=${NET_VHOST:-off}
[ "$vhost" = off ] || [ -c /dev/vhost-net ] || fail "no /dev/vhost-net"
head -c 64M /dev/urandom >"$TEST_TMP/data"
want=$(sha256sum <"$TEST_TMP/data" | cut -d' ' -f1)
# shellcheck disable=SC2016 # the single-quoted text is the guest script
make_initrd_with_test "$GUEST_NET_UP
$GUEST_NET_RECEIVE"'
echo "cvmm-test: in-size=$(wc -c </tmp/in)"
echo "cvmm-test: in-sha=$(sha256sum /tmp/in | cut -d" " -f1)"
nc 192.0.2.1 7001 </tmp/in && echo "cvmm-test: sent=yes"' "$TEST_TMP/initrd"
net_tap cvmmt0 192.0.2.1/24
net_listen 7001 "$TEST_TMP/back"
start=$SECONDS
start_guest_until '^cvmm-test: ready' run --kernel "$RIG_BZIMAGE" --initrd "$TEST_TMP/initrd" \
	--memory 512 --net "tap=cvmmt0,vhost=$vhost"
t0=$SECONDS
net_send_retry 192.0.2.2 7002 "$TEST_TMP/data" || fail "cannot send to the guest"
t1=$SECONDS
rc=0
wait_guest || rc=$?
net_listen_wait
t2=$SECONDS
expect_status 0 "$rc"
expect_output '^cvmm-test: sent=yes$'
[ "$(guest_value in-sha)" = "$want" ] || { show_output; fail "vhost=$vhost: the guest received other data"; }
got=$(sha256sum <"$TEST_TMP/back" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "vhost=$vhost: the host received other data back"
echo "vhost=$vhost: 64 MiB each way intact (boot $((t0 - start)) s, host->guest $((t1 - t0)) s, guest->host + poweroff $((t2 - t1)) s)"
