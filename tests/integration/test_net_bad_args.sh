#!/usr/bin/env bash
# Bad --net arguments, and TAPs or a vhost-net that cannot be used: exit 2
# and exactly one `cvmm: --net` line on stderr naming the problem, before a
# VM exists.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/disk-lib.sh"
. "$(dirname "$0")/net-lib.sh"
net_setup
net_tap cvmmt0 192.0.2.1/24
ip tuntap add cvmmtun0 mode tun || fail "cannot create a TUN"
NET_TAPS+=(cvmmtun0)
boot=(run --kernel "$RIG_BZIMAGE" --initrd "$RIG_INITRD")

try_cmd() { # WHAT ERE CMD...
	local what=$1 ere=$2 rc=0
	shift 2
	run_exe "$@" || rc=$?
	expect_status 2 "$rc"
	if [ "$(wc -l <"$GUEST_ERR")" != 1 ] || ! grep -Eq "^cvmm: --net.*$ere" "$GUEST_ERR"; then
		echo "$what: expected one 'cvmm: --net...$ere' line on stderr, got:" >&2
		cat "$GUEST_ERR" >&2
		exit 1
	fi
	echo "$what: $(cat "$GUEST_ERR")"
}
try() { # WHAT ERE ARGS...
	local what=$1 ere=$2
	shift 2
	try_cmd "$what" "$ere" "$CVMM" "${boot[@]}" "$@"
}
require_exe "$CVMM"
try "missing TAP" "cvmmnone0: no such interface" --net tap=cvmmnone0
try "not a TAP" "cvmmtun0: not a TAP" --net tap=cvmmtun0
try "busy TAP" "cvmmt0: busy" --net tap=cvmmt0 --net tap=cvmmt0
try "not a network interface name" "name longer" --net tap=cvmm-much-too-long-name
try "bad MAC" "mac=52:54:00:12:34 " --net tap=cvmmt0,mac=52:54:00:12:34
try "multicast MAC" "mac=01:00:5e:00:00:01 is not a unicast" --net tap=cvmmt0,mac=01:00:5e:00:00:01
try "MTU too small" "mtu=67 is not in 68..65535" --net tap=cvmmt0,mtu=67
try "MTU too large" "mtu=65536 is not in 68..65535" --net tap=cvmmt0,mtu=65536
try "MTU not a number" "mtu=9k" --net tap=cvmmt0,mtu=9k
try "no tap=" "tap=NAME is required" --net mac=52:54:00:12:34:56
try "unknown key" "unknown key 'speed'" --net tap=cvmmt0,speed=10G
try "bad vhost value" "bad value for 'vhost'" --net tap=cvmmt0,vhost=yes
try "bad limit" "bad value for 'rx-bw'" --net tap=cvmmt0,rx-bw=fast
try "limits with vhost" "not vhost=on" --net tap=cvmmt0,vhost=on,tx-bw=8M
# A vhost-net device that refuses (/dev/null bound in its place, in a mount
# namespace of our own): the error names it.
if [ -c /dev/vhost-net ] && command -v unshare >/dev/null; then
	# shellcheck disable=SC2016 # expanded by that sh
	try_cmd "vhost-net refusing" "/dev/vhost-net" unshare -m sh -c \
		'mount --bind /dev/null /dev/vhost-net && exec "$@"' sh \
		"$CVMM" "${boot[@]}" --net tap=cvmmt0,vhost=on
fi
