#!/usr/bin/env bash
# Helpers for tests/integration/test_net_*.sh, sourced after lib.sh and
# disk-lib.sh (start_guest_until, wait_guest). Traffic stays between this
# machine (the L1) and its guests, on TAPs with TEST-NET addresses.
PATH=$PATH:/usr/sbin:/sbin
BB=$RIG_BUSYBOX
NET_TAPS=()

# The guest's side of an interface: up, with an address (run in /test.sh).
# Kernel messages stay off the console, where they could split a test line.
# shellcheck disable=SC2034 # used by the tests
GUEST_NET_UP='echo 1 >/proc/sys/kernel/printk
ip link set eth0 up && ip addr add 192.0.2.2/24 dev eth0 || echo "cvmm-test: eth0 failed"'

# The guest's receiving side of a host->guest transfer (in /test.sh): it
# says "cvmm-test: ready" and returns once one TCP connection to port 7002
# has ended, its data in /tmp/in (stdin held open: see net_listen).
# shellcheck disable=SC2034,SC2016 # used by the tests; expanded in the guest
GUEST_NET_RECEIVE='mkfifo /tmp/hold
sleep 100000 >/tmp/hold &
nc -l -p 7002 </tmp/hold >/tmp/in &
listener=$!
echo "cvmm-test: ready"
wait $listener'

# net_setup: the tun and vhost_net modules (the L1 does not load them), and
# removal of our TAPs when the test ends.
net_setup() {
	local ko
	for ko in $RIG_L1_NET_MODULES; do
		"$BB" insmod "$ko" 2>/dev/null || true
	done
	[ -c /dev/net/tun ] || fail "no /dev/net/tun after loading tun"
	trap 'net_cleanup; rm -rf "$TEST_TMP"' EXIT
}

net_cleanup() {
	local t
	for t in "${NET_TAPS[@]}"; do
		ip link del "$t" 2>/dev/null || true
	done
}

# net_tap NAME ADDR/PREFIX [MTU]: a TAP owned by nobody, up, with an address.
net_tap() {
	ip link del "$1" 2>/dev/null || true
	ip tuntap add "$1" mode tap || fail "cannot create TAP $1"
	NET_TAPS+=("$1")
	[ -z "${3:-}" ] || ip link set "$1" mtu "$3"
	ip addr add "$2" dev "$1"
	ip link set "$1" up
}

# vhost_modes: "off on", or "off" when /dev/vhost-net is missing here (then
# say so: the vhost half is not tested).
vhost_modes() {
	if [ -c /dev/vhost-net ]; then
		echo "off on"
	else
		echo "net-lib: no /dev/vhost-net; vhost=on not tested" >&2
		echo off
	fi
}

# host_ping ADDR [ARGS...]: busybox ping from this side, 3 replies wanted.
host_ping() {
	local addr=$1
	shift
	"$BB" ping -c 3 -W 10 "$@" "$addr" >/dev/null
}

# busybox nc ends a connection once its stdin ends, and a background job's
# stdin is /dev/null: listeners read from a fifo held open by a sleep
# instead (not a pipe: ash's `wait` would wait for the sleep too).

# net_listen PORT FILE: accept one TCP connection here, into FILE.
net_listen() {
	rm -f "$TEST_TMP/hold.$1"
	mkfifo "$TEST_TMP/hold.$1"
	sleep 100000 >"$TEST_TMP/hold.$1" &
	NET_HOLD_PID=$!
	"$BB" nc -l -p "$1" <"$TEST_TMP/hold.$1" >"$2" &
	NET_LISTENER=$!
}

# net_listen_wait: wait (bounded) until that connection has ended.
net_listen_wait() {
	local _
	for _ in $(seq 600); do
		kill -0 "$NET_LISTENER" 2>/dev/null || break
		sleep 1
	done
	kill "$NET_LISTENER" "$NET_HOLD_PID" 2>/dev/null || true
}

# net_send_retry ADDR PORT FILE: send FILE over TCP with busybox nc, retrying
# while the guest's listener is not up yet (bounded).
net_send_retry() {
	local _
	for _ in $(seq 60); do
		if timeout 600 "$BB" nc "$1" "$2" <"$3" 2>/dev/null; then
			return 0
		fi
		sleep 1
	done
	return 1
}

# snmp_ip FIELD: a counter of the Ip: lines of /proc/net/snmp, by name
# (the same text works in guest scripts, with busybox awk).
# shellcheck disable=SC2016 # expanded where it runs
SNMP_IP='snmp_ip() { awk -v f="$1" '"'"'/^Ip:/ { if (!h) { for (i = 1; i <= NF; i++) c[$i] = i; h = 1 } else print $c[f] }'"'"' /proc/net/snmp; }'
eval "$SNMP_IP"

# shellcheck disable=SC2034 # NET_RC is read by the tests
# net_guest_done: tell the guest script, waiting in `nc -l -p 7000`,
# to finish; then wait (bounded: killed after GUEST_TIMEOUT) for cvmm.
# Sets NET_RC to its exit status.
net_guest_done() {
	local deadline=$((SECONDS + GUEST_TIMEOUT))
	echo finished | timeout 30 "$BB" nc 192.0.2.2 7000 || true
	while kill -0 "$GUEST_PID" 2>/dev/null; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "net-lib: cvmm still running after ${GUEST_TIMEOUT}s; killed" >&2
			kill -9 "$GUEST_PID" 2>/dev/null || true
			break
		fi
		sleep 1
	done
	local rc=0
	wait_guest || rc=$?
	NET_RC=$rc
}
